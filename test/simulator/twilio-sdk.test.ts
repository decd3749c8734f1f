import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import twilio from 'twilio';
import type { AnySchemaObject } from 'ajv';
import { createAjv, describeAjvError } from '../../src/ajv';
import { startSimulator, type Simulator } from '../../src/simulator/simulator-server';
import { REPO_ROOT, startService, type TestService } from '../helpers/service';
import { simulatorSdk, type SimulatorRequestClient } from '../helpers/simulator-sdk-client';
import { SimulatorTwilioApp, type AppRequest } from '../helpers/simulator-twilio-app';
import { ACCESS_KEY, ACCOUNT_ID } from '../helpers/test-data';
import { expectNoTypedValues } from './callback-secrets';

/**
 * Issue 12, acceptance 1 and 2: the simulator driven the way a merchant's developer drives
 * Twilio, with the official `twilio` package only. REST calls go through the SDK (its
 * RequestClient sends them to the simulator), TwiML is built with twilio.twiml.VoiceResponse,
 * and the app that receives the simulator's requests checks them with twilio.webhook(), the
 * way Twilio's docs tell an app to. Only the caller's keypad, which Twilio has no API for, is
 * the simulator's own endpoint.
 */
const ACCOUNT_SID = `AC${'AB12cd34'.repeat(4)}`; // upper- and lower-case hex, as the spec allows
const AUTH_TOKEN = 'sdk-test-auth-token';
const CARD = '4111111111111111';
const WRONG_CARD = '4111111111111112';
const NOT_A_TEST_CARD = '4242424242424242';
const ROUTING = '244183602';
const TEST_BANK_ACCOUNT = '123456789';
const NOT_A_TEST_BANK_ACCOUNT = '987654321';
const CALLER = '+15005550006';
const MERCHANT = '+15005550001';
const VoiceResponse = twilio.twiml.VoiceResponse;

let simulator: Simulator;
let service: TestService;
let app: SimulatorTwilioApp;
let client: ReturnType<typeof simulatorSdk>['client'];
let httpClient: SimulatorRequestClient;

beforeAll(async () => {
  service = await startService({ LOG_LEVEL: 'info' });
  app = await new SimulatorTwilioApp(AUTH_TOKEN).start();
  const bridge = { url: `${service.url}/`, username: ACCOUNT_ID, password: ACCESS_KEY };
  simulator = await startSimulator({ authToken: AUTH_TOKEN, connectors: { Default: bridge, Test: { ...bridge, mode: 'test' } } });
  ({ client, httpClient } = simulatorSdk(simulator.url, ACCOUNT_SID, AUTH_TOKEN));
});
afterAll(async () => {
  await simulator.settled();
  await simulator.stop();
  await service.stop();
  await app.stop();
});

let callCounter = 0;
/** Call sids with upper-case hex too: the spec's pattern is ^CA[0-9a-fA-F]{32}$. */
const newCallSid = () => `CA${'DEAD'}${(++callCounter).toString(16).toUpperCase().padStart(28, '0')}`;
let keyCounter = 0;
const key = () => `sdk-key-${++keyCounter}`;
const bridgePayments = () => service.logs.entries().filter((entry) => entry.message === 'payment');
const press = (callSid: string, digits: string) => request(simulator.url).post(`/simulator/calls/${callSid}/dtmf`).type('form').send({ Digits: digits }).expect(204);
const callbacksOf = (sid: string) => app.at('/status').filter((received) => received.params.Sid === sid);
const finalCallback = (sid: string) => app.waitFor((received) => received.path === '/status' && received.params.Sid === sid && received.params.Result !== undefined);

/** An agent desktop's side of one Payments session, through the SDK. */
function agentSession(callSid = newCallSid()) {
  let sid = '';
  const status = `${app.url}/status`;
  return {
    callSid,
    get sid() {
      return sid;
    },
    async start(options: Omit<Parameters<ReturnType<typeof client.calls>['payments']['create']>[0], 'idempotencyKey' | 'statusCallback'> = {}) {
      const payment = await client.calls(callSid).payments.create({ idempotencyKey: key(), statusCallback: status, timeout: 60, ...options });
      sid = payment.sid;
      return payment;
    },
    update: (options: { capture?: Parameters<ReturnType<ReturnType<typeof client.calls>['payments']>['update']>[0]['capture']; status?: 'complete' | 'cancel' }) =>
      client.calls(callSid).payments(sid).update({ idempotencyKey: key(), statusCallback: status, ...options }),
    /** The agent asks for a field; the caller types it; the field's last callback arrives. */
    async capture(capture: NonNullable<Parameters<ReturnType<ReturnType<typeof client.calls>['payments']>['update']>[0]['capture']>, digits: string) {
      const before = callbacksOf(sid).length;
      await this.update({ capture });
      await press(callSid, digits);
      return (
        await app.waitFor((received) => received.path === '/status' && received.params.Sid === sid && received.params.Capture === capture && received.params.PartialResult === 'false' && callbacksOf(sid).indexOf(received) >= before)
      ).params;
    },
  };
}

/** What a call said, from the simulator's record of it. */
async function eventsOf(callSid: string): Promise<Array<Record<string, unknown>>> {
  return (await request(simulator.url).get(`/simulator/calls/${callSid}/events`)).body.events as Array<Record<string, unknown>>;
}
async function waitForEvent(callSid: string, predicate: (event: Record<string, unknown>) => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await eventsOf(callSid)).some(predicate)) {
    if (Date.now() > deadline) throw new Error(`no such event on ${callSid}: ${JSON.stringify(await eventsOf(callSid))}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function rejection(promise: Promise<unknown>): Promise<{ status: number; code?: number }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(twilio.RestException);
    return error as { status: number; code?: number };
  }
  throw new Error('the SDK did not reject');
}

describe('the Payments API through the twilio SDK', () => {
  test('when a wrong card number is typed then the right one, then the bridge charges once and the last callback has the charge', async () => {
    const session = agentSession();
    const payment = await session.start({ chargeAmount: 10, currency: 'usd', description: 'order 12' });
    expect(payment).toMatchObject({ accountSid: ACCOUNT_SID, callSid: session.callSid, sid: expect.stringMatching(/^PK[0-9a-f]{32}$/) });
    expect(await session.capture('payment-card-number', `${WRONG_CARD}#`)).toMatchObject({ ErrorType: 'invalid-card-number' });
    expect(await session.capture('payment-card-number', `${CARD}#`)).toMatchObject({ PaymentCardNumber: 'xxxx xxxx xxxx 1111', PaymentCardType: 'visa' });
    await session.capture('expiration-date', '1230#');
    await session.capture('security-code', '123#');
    expect(await session.capture('postal-code', '94111#')).toMatchObject({ Required: '' });
    const before = bridgePayments().length;
    const completed = await session.update({ status: 'complete' });
    expect(completed.sid).toBe(session.sid);
    expect(await finalCallback(session.sid)).toMatchObject({ params: { Result: 'success', PaymentConfirmationCode: expect.stringMatching(/^\d+$/) } });
    expect(bridgePayments().slice(before)).toEqual([expect.objectContaining({ method: 'charge', outcome: 'approved', last4: '1111' })]);
  });

  test('when no charge amount is given, then the card is tokenized and the token arrives', async () => {
    const session = agentSession();
    await session.start({ tokenType: 'reusable', securityCode: false, postalCode: false });
    await session.capture('payment-card-number', `${CARD}#`);
    await session.capture('expiration-date', '0831#');
    await session.update({ status: 'complete' });
    const final = await finalCallback(session.sid);
    expect(final.params).toMatchObject({ Result: 'success', TokenType: 'reusable', PaymentToken: expect.any(String) });
    expect(final.params.PaymentConfirmationCode).toBeUndefined();
  });

  test('when TokenType is payment-method, then it is accepted and reported on every callback', async () => {
    const session = agentSession();
    await session.start({ tokenType: 'payment-method', securityCode: false, postalCode: false });
    await session.capture('payment-card-number', `${CARD}#`);
    await session.capture('expiration-date', '0831#');
    await session.update({ status: 'complete' });
    expect((await finalCallback(session.sid)).params).toMatchObject({ Result: 'success', PaymentToken: expect.any(String) });
    expect(new Set(callbacksOf(session.sid).map((received) => received.params.TokenType))).toEqual(new Set(['payment-method']));
  });

  test('when a bank account is captured, then the ACH charge succeeds with the account masked', async () => {
    const session = agentSession();
    await session.start({ paymentMethod: 'ach-debit', chargeAmount: 25, bankAccountType: 'consumer-checking', parameter: { name_on_account: 'Ann Lee' } });
    await session.capture('bank-routing-number', `${ROUTING}#`);
    expect(await session.capture('bank-account-number', `${TEST_BANK_ACCOUNT}#`)).toMatchObject({ BankAccountNumber: '*******89', Required: '' });
    await session.update({ status: 'complete' });
    expect((await finalCallback(session.sid)).params).toMatchObject({ Result: 'success', PaymentMethod: 'ach-debit', BankAccountType: 'consumer-checking' });
  });

  test('when the agent cancels, then the session ends, the bridge is not called and a later update is refused with 64021', async () => {
    const session = agentSession();
    await session.start({ chargeAmount: 5 });
    await session.capture('payment-card-number', `${CARD}#`);
    const before = bridgePayments().length;
    await session.update({ status: 'cancel' });
    await simulator.settled();
    expect(bridgePayments().length).toBe(before);
    expect(await rejection(session.update({ capture: 'expiration-date' }))).toMatchObject({ status: 400, code: 64021 });
  });

  test('when the agent completes before every field is in, then the SDK rejects with 64019', async () => {
    const session = agentSession();
    await session.start({ chargeAmount: 5 });
    await session.capture('payment-card-number', `${CARD}#`);
    expect(await rejection(session.update({ status: 'complete' }))).toMatchObject({ status: 400, code: 64019 });
    await session.update({ status: 'cancel' });
  });

  test('when the auth token is wrong, then the SDK rejects with 401 and 20003', async () => {
    const wrong = simulatorSdk(simulator.url, ACCOUNT_SID, 'not-the-token').client;
    expect(await rejection(wrong.calls(newCallSid()).payments.create({ idempotencyKey: key(), statusCallback: `${app.url}/status` }))).toMatchObject({ status: 401, code: 20003 });
  });

  test('when RequireMatchingInputs lists the card number and the second entry differs, then input-matching-failed; typed again and matched, the charge goes through', async () => {
    const session = agentSession();
    await session.start({ chargeAmount: 7, securityCode: false, postalCode: false, requireMatchingInputs: 'payment-card-number' });
    expect(await session.capture('payment-card-number', `${CARD}#`)).toMatchObject({ Required: 'ExpirationDate,PaymentCardNumberMatcher' });
    const mismatch = await session.capture('payment-card-number-matcher', '5555555555554444#');
    expect(mismatch).toMatchObject({ ErrorType: 'input-matching-failed', Required: 'PaymentCardNumber,ExpirationDate,PaymentCardNumberMatcher' });
    expect(await rejection(session.update({ status: 'complete' }))).toMatchObject({ code: 64019 });

    await session.capture('payment-card-number', `${CARD}#`);
    const matched = await session.capture('payment-card-number-matcher', `${CARD}#`);
    expect(matched.ErrorType).toBeUndefined();
    expect(matched).toMatchObject({ Required: 'ExpirationDate', PaymentCardNumber: 'xxxx xxxx xxxx 1111' });
    await session.capture('expiration-date', '1230#');
    await session.update({ status: 'complete' });
    expect((await finalCallback(session.sid)).params).toMatchObject({ Result: 'success' });
  });

  test('when a matcher is captured for a field RequireMatchingInputs does not list, then 64020', async () => {
    const session = agentSession();
    await session.start({ chargeAmount: 7 });
    expect(await rejection(session.update({ capture: 'security-code-matcher' }))).toMatchObject({ status: 400, code: 64020 });
    await session.update({ status: 'cancel' });
  });

  test('when Confirmation is true and the caller presses 1 after hearing the last 4, then the charge goes through', async () => {
    const session = agentSession();
    await session.start({ chargeAmount: 8, securityCode: false, postalCode: false, confirmation: 'true' });
    await session.capture('payment-card-number', `${CARD}#`);
    await session.capture('expiration-date', '1230#');
    const before = bridgePayments().length;
    await session.update({ status: 'complete' });
    await waitForEvent(session.callSid, (event) => event.text === 'You entered a card ending in 1111. Press 1 to confirm, or 2 to cancel.');
    expect(bridgePayments().length).toBe(before);
    expect(await rejection(session.update({ capture: 'expiration-date' }))).toMatchObject({ code: 64021 });
    await press(session.callSid, '1');
    expect((await finalCallback(session.sid)).params).toMatchObject({ Result: 'success', PaymentConfirmationCode: expect.any(String) });
    expect(bridgePayments().length).toBe(before + 1);
  });

  test('when Confirmation is true and the caller presses 2, then the session is cancelled and the bridge is not called', async () => {
    const session = agentSession();
    await session.start({ chargeAmount: 8, securityCode: false, postalCode: false, confirmation: 'true' });
    await session.capture('payment-card-number', `${CARD}#`);
    await session.capture('expiration-date', '1230#');
    const before = bridgePayments().length;
    await session.update({ status: 'complete' });
    await waitForEvent(session.callSid, (event) => typeof event.text === 'string' && event.text.includes('Press 1 to confirm'));
    await press(session.callSid, '2');
    await waitForEvent(session.callSid, (event) => event.text === 'Your payment has been cancelled.');
    await simulator.settled();
    const final = callbacksOf(session.sid).at(-1);
    expect(final?.params.Result).toBeUndefined();
    expect(final?.params).toMatchObject({ PaymentCardNumber: 'xxxx xxxx xxxx 1111', Required: '' });
    expect(bridgePayments().length).toBe(before);
    expect(await rejection(session.update({ status: 'complete' }))).toMatchObject({ code: 64021 });
  });

  test('when the connector is in TEST mode, then a card or bank account that is not Twilio’s test one gets 64022 or 64023 and the bridge is not called; a test card is charged', async () => {
    const before = bridgePayments().length;
    const card = agentSession();
    await card.start({ chargeAmount: 3, paymentConnector: 'Test', securityCode: false, postalCode: false });
    await card.capture('payment-card-number', `${NOT_A_TEST_CARD}#`);
    await card.capture('expiration-date', '1230#');
    await card.update({ status: 'complete' });
    expect((await finalCallback(card.sid)).params).toMatchObject({ Result: 'payment-connector-error', PayErrorCode: '64022', PaymentConnector: 'Test' });

    const bank = agentSession();
    await bank.start({ chargeAmount: 3, paymentConnector: 'Test', paymentMethod: 'ach-debit' });
    await bank.capture('bank-routing-number', `${ROUTING}#`);
    await bank.capture('bank-account-number', `${NOT_A_TEST_BANK_ACCOUNT}#`);
    await bank.update({ status: 'complete' });
    expect((await finalCallback(bank.sid)).params).toMatchObject({ Result: 'payment-connector-error', PayErrorCode: '64023' });
    expect(bridgePayments().length).toBe(before);

    const testCard = agentSession();
    await testCard.start({ chargeAmount: 3, paymentConnector: 'Test', securityCode: false, postalCode: false });
    await testCard.capture('payment-card-number', `${CARD}#`);
    await testCard.capture('expiration-date', '1230#');
    await testCard.update({ status: 'complete' });
    expect((await finalCallback(testCard.sid)).params).toMatchObject({ Result: 'success' });
    expect(bridgePayments().length).toBe(before + 1);
  });
});

describe('live call control through the twilio SDK', () => {
  test('when a call is redirected to an IVR whose <Pay> action redirects again, then the call says, pays, runs the action’s TwiML, redirects and hangs up', async () => {
    const created = await request(simulator.url).post('/simulator/calls').type('form').send({ From: CALLER, To: MERCHANT, AccountSid: ACCOUNT_SID }).expect(201);
    const callSid = created.body.CallSid as string;
    expect(created.body).toMatchObject({ CallSid: expect.stringMatching(/^CA[0-9a-f]{32}$/), From: CALLER, To: MERCHANT, Status: 'in-progress' });

    app.answer('/ivr', () => {
      const response = new VoiceResponse();
      response.say('Welcome to Example Pizza.');
      response.pause({ length: 1 });
      const pay = response.pay({ action: `${app.url}/paid`, statusCallback: `${app.url}/pay-status`, chargeAmount: '12.50', securityCode: false, postalCode: 'false', timeout: 60 });
      pay.parameter({ name: 'order', value: 'A-42' });
      pay.prompt({ for: 'payment-card-number' }).say('Key in your card number, then press pound.');
      response.say('Not reached: the action answers what comes next.');
      return response;
    });
    app.answer('/paid', (params) => {
      const response = new VoiceResponse();
      response.say(params.Result === 'success' ? 'Your payment went through.' : `Your payment failed: ${params.Result}.`);
      response.redirect({ method: 'GET' }, `${app.url}/goodbye`);
      return response;
    });
    app.answer('/goodbye', () => {
      const response = new VoiceResponse();
      response.say('Goodbye.');
      response.hangup();
      return response;
    });

    const updated = await client.calls(callSid).update({ url: `${app.url}/ivr`, method: 'POST' });
    expect(updated).toMatchObject({ sid: callSid, status: 'in-progress', from: CALLER, to: MERCHANT });
    await waitForEvent(callSid, (event) => event.text === 'Key in your card number, then press pound.');
    await press(callSid, `${CARD}#`);
    await press(callSid, '1230#');
    await waitForEvent(callSid, (event) => event.type === 'hangup');

    const action = app.at('/paid')[0];
    expect(action?.params).toMatchObject({ Result: 'success', PaymentConfirmationCode: expect.stringMatching(/^\d+$/), PaymentCardNumber: 'xxxx xxxx xxxx 1111', CallSid: callSid, From: CALLER, To: MERCHANT, CallStatus: 'in-progress' });
    expect(app.at('/ivr')[0]?.params).toMatchObject({ CallSid: callSid, AccountSid: ACCOUNT_SID, From: CALLER, To: MERCHANT });
    expect(app.at('/goodbye')[0]).toMatchObject({ method: 'GET', url: expect.stringContaining('/goodbye?'), params: {} });
    expect(app.at('/pay-status').filter((received) => received.params.CallSid === callSid).map((received) => received.params.For)).toEqual(['payment-card-number', 'expiration-date', 'payment-processing']);

    const events = await eventsOf(callSid);
    const story = events.map((event) => [event.type, event.text ?? event.url ?? event.to ?? event.result ?? event.reason ?? event.seconds]);
    expect(story).toEqual([
      ['fetch', `${app.url}/ivr`],
      ['say', 'Welcome to Example Pizza.'],
      ['pause', 1],
      ['pay-started', undefined],
      ['say', 'Key in your card number, then press pound.'],
      ['say', 'Please enter your expiration date, two digits for the month and two for the year.'],
      ['say', 'Thank you. Please wait while we process your payment.'],
      ['pay-ended', 'success'],
      ['fetch', `${app.url}/paid`],
      ['say', 'Your payment went through.'],
      ['redirect', `${app.url}/goodbye`],
      ['fetch', `${app.url}/goodbye`],
      ['say', 'Goodbye.'],
      ['hangup', 'hangup-verb'],
    ]);
    expect(await rejection(client.calls(callSid).update({ url: `${app.url}/ivr` }))).toMatchObject({ status: 400, code: 21220 });
  });

  test('when a call is redirected to inline TwiML, or completed, then it runs it, and unknown calls are 404', async () => {
    const callSid = (await request(simulator.url).post('/simulator/calls').type('form').send({ AccountSid: ACCOUNT_SID }).expect(201)).body.CallSid as string;
    const twiml = new VoiceResponse();
    twiml.say('Please hold.');
    twiml.pause({ length: 30 });
    twiml.say('Still there?');
    twiml.redirect(`${app.url}/after-hold`);
    app.answer('/after-hold', () => new VoiceResponse().say('Thanks for holding.').toString());
    await client.calls(callSid).update({ twiml });
    await waitForEvent(callSid, (event) => event.text === 'Thanks for holding.');
    expect((await eventsOf(callSid)).filter((event) => event.type === 'say').map((event) => event.text)).toEqual(['Please hold.', 'Still there?', 'Thanks for holding.']);
    // The TwiML ran out: the call hung up, as on Twilio.
    await waitForEvent(callSid, (event) => event.type === 'hangup' && event.reason === 'end-of-twiml');

    const other = (await request(simulator.url).post('/simulator/calls').type('form').send({ AccountSid: ACCOUNT_SID }).expect(201)).body.CallSid as string;
    expect(await client.calls(other).update({ status: 'completed' })).toMatchObject({ status: 'completed' });
    expect(await rejection(client.calls(newCallSid()).update({ url: `${app.url}/ivr` }))).toMatchObject({ status: 404, code: 20404 });
  });

  test('when the fetched TwiML is broken, then the call says Twilio’s application error and hangs up', async () => {
    const callSid = (await request(simulator.url).post('/simulator/calls').type('form').send({ AccountSid: ACCOUNT_SID }).expect(201)).body.CallSid as string;
    app.answer('/broken', () => '<Response><Say>unclosed</Response>');
    await client.calls(callSid).update({ url: `${app.url}/broken` });
    await waitForEvent(callSid, (event) => event.type === 'hangup');
    expect(await eventsOf(callSid)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'error', code: 12100 }),
        expect.objectContaining({ type: 'say', text: 'We are sorry, an application error has occurred. Goodbye.' }),
        expect.objectContaining({ type: 'hangup', reason: 'application-error' }),
      ]),
    );
  });
});

describe('text messages through the twilio SDK', () => {
  const smsCallbacks = (sid: string) => app.at('/sms-status').filter((received) => received.params.MessageSid === sid);
  const lastStatus = (sid: string, status: string) => app.waitFor((received) => received.path === '/sms-status' && received.params.MessageSid === sid && received.params.MessageStatus === status);

  test('when a message is sent, then it answers queued, the status callbacks say sent then delivered, and the number received it', async () => {
    const to = '+15005550123';
    const body = `Pay your order here: ${simulator.url}/pay/abc123 (reply STOP to stop)`;
    const message = await client.messages.create({ to, from: MERCHANT, body, statusCallback: `${app.url}/sms-status` });
    expect(message).toMatchObject({ sid: expect.stringMatching(/^SM[0-9a-f]{32}$/), status: 'queued', to, from: MERCHANT, body, direction: 'outbound-api', accountSid: ACCOUNT_SID });
    await lastStatus(message.sid, 'delivered');
    expect(smsCallbacks(message.sid).map((received) => received.params.MessageStatus)).toEqual(['sent', 'delivered']);
    expect(smsCallbacks(message.sid)[0]?.params).toMatchObject({ AccountSid: ACCOUNT_SID, SmsSid: message.sid, SmsStatus: 'sent', From: MERCHANT, To: to, ApiVersion: '2010-04-01' });
    expect(smsCallbacks(message.sid).every((received) => received.params.Body === undefined)).toBe(true);
    const inbox = (await request(simulator.url).get('/simulator/messages').query({ to }).expect(200)).body.messages;
    expect(inbox).toEqual([expect.objectContaining({ sid: message.sid, body, status: 'delivered', from: MERCHANT })]);
  });

  test('when the number is unreachable, then the message ends undelivered with 30003', async () => {
    const to = '+15005550999';
    await request(simulator.url).put(`/simulator/numbers/${encodeURIComponent(to)}/unreachable`).expect(204);
    const message = await client.messages.create({ to, from: MERCHANT, body: 'Your receipt is ready.', statusCallback: `${app.url}/sms-status` });
    expect((await lastStatus(message.sid, 'undelivered')).params).toMatchObject({ ErrorCode: '30003' });
    expect(smsCallbacks(message.sid).map((received) => received.params.MessageStatus)).toEqual(['sent', 'undelivered']);
    await request(simulator.url).delete(`/simulator/numbers/${encodeURIComponent(to)}/unreachable`).expect(204);
    const again = await client.messages.create({ to, from: MERCHANT, body: 'Your receipt is ready.', statusCallback: `${app.url}/sms-status` });
    await lastStatus(again.sid, 'delivered');
  });

  test('when a body holds a card number, then it is filtered (30007) and the number’s inbox never shows it', async () => {
    const to = '+15005550124';
    const message = await client.messages.create({ to, from: MERCHANT, body: `Card on file: ${CARD}`, statusCallback: `${app.url}/sms-status` });
    expect((await lastStatus(message.sid, 'undelivered')).params).toMatchObject({ ErrorCode: '30007' });
    const inbox = (await request(simulator.url).get('/simulator/messages').query({ to }).expect(200)).body;
    expect(JSON.stringify(inbox)).not.toContain(CARD);
    expect(inbox.messages).toEqual([expect.objectContaining({ sid: message.sid, status: 'undelivered', body: '' })]);
  });

  test('when a message has no body or no sender, then Twilio’s 21602 or 21603', async () => {
    expect(await rejection(client.messages.create({ to: CALLER, from: MERCHANT, body: '' }))).toMatchObject({ status: 400, code: 21602 });
    expect(await rejection(client.messages.create({ to: CALLER, body: 'hi' } as Parameters<typeof client.messages.create>[0]))).toMatchObject({ status: 400, code: 21603 });
  });
});

describe('what the app received from the simulator', () => {
  test('when every request is checked with twilio.validateRequest, then each passes, twilio.webhook() let each through, and a tampered parameter fails', async () => {
    await simulator.settled();
    const received = app.requests;
    expect(received.length).toBeGreaterThan(50);
    expect(new Set(received.map((one) => one.path))).toEqual(new Set(['/status', '/ivr', '/paid', '/pay-status', '/goodbye', '/after-hold', '/broken', '/sms-status']));
    const refused = received.filter((one) => !one.accepted || !twilio.validateRequest(AUTH_TOKEN, one.signature ?? '', one.url, one.params));
    expect(refused.map((one) => one.path)).toEqual([]);

    const callback = received.find((one) => one.path === '/status' && one.params.PaymentCardNumber !== undefined) as AppRequest;
    const tampered = { ...callback.params, ChargeAmount: '0.01' };
    expect(twilio.validateRequest(AUTH_TOKEN, callback.signature ?? '', callback.url, callback.params)).toBe(true);
    expect(twilio.validateRequest(AUTH_TOKEN, callback.signature ?? '', callback.url, tampered)).toBe(false);
    expect(twilio.validateRequest('another-accounts-token', callback.signature ?? '', callback.url, callback.params)).toBe(false);
  });

  test('when a request comes without a signature or with a tampered body, then the app’s twilio.webhook() refuses it', async () => {
    const callback = app.requests.find((one) => one.path === '/status') as AppRequest;
    const before = app.requests.length;
    await request(app.url).post('/status').type('form').send(callback.params).expect(400);
    await request(app.url)
      .post('/status')
      .set('X-Twilio-Signature', callback.signature ?? '')
      .type('form')
      .send({ ...callback.params, Result: 'success' })
      .expect(403);
    expect(app.requests.slice(before).map((one) => one.accepted)).toEqual([false, false]);
    app.requests.splice(before);
  });

  test('when every body the app received is read raw, then none holds a card, CVV, bank account or routing number', () => {
    const asReceived = app.requests.map((one) => ({ path: one.path, fields: one.params, raw: new URLSearchParams(one.params).toString() }));
    expectNoTypedValues([{ received: asReceived }], { cards: [CARD, WRONG_CARD, NOT_A_TEST_CARD], cvvs: [], bankAccounts: [TEST_BANK_ACCOUNT, NOT_A_TEST_BANK_ACCOUNT], routingNumbers: [ROUTING] });
  });
});

describe('the answers, against Twilio’s OpenAPI description', () => {
  const spec = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'test/fixtures/twilio/twilio-api-v2010-extract.json'), 'utf8')) as {
    'x-source': { commit: string };
    paths: Record<string, { post: { operationId: string; responses: Record<string, { content: { 'application/json': { schema: { $ref: string } } } }> } }>;
    components: { schemas: Record<string, AnySchemaObject> };
  };
  const ajv = createAjv({ strict: false });
  // The spec's own formats, checked rather than ignored.
  ajv.addFormat('date-time-rfc-2822', /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/);
  ajv.addFormat('phone-number', /^\+[1-9]\d{1,14}$/);
  ajv.addFormat('currency', /^[A-Z]{3}$/);
  ajv.addFormat('uri-map', true);
  ajv.addSchema({ $id: 'twilio-api-v2010', components: spec.components });

  /** The operation of the spec an SDK request was: its path template turned into a pattern. */
  const operationOf = (url: string) => {
    const pathname = new URL(url).pathname;
    return Object.entries(spec.paths).find(([template]) => new RegExp(`^${template.replace(/\./g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`).test(pathname));
  };

  test('when every Create, Update, message and call answer the SDK got is validated, then each has the spec’s status code and schema', () => {
    expect(spec['x-source'].commit).toMatch(/^[0-9a-f]{40}$/);
    const checked: Record<string, number> = {};
    const problems: string[] = [];
    for (const exchange of httpClient.exchanges.filter((one) => one.statusCode < 400)) {
      const operation = operationOf(exchange.url);
      if (!operation) continue;
      const [template, { post }] = operation;
      const response = post.responses[String(exchange.statusCode)];
      if (!response) {
        problems.push(`${post.operationId} answered ${exchange.statusCode}, the spec says ${Object.keys(post.responses).join(', ')}`);
        continue;
      }
      const validate = ajv.getSchema(`twilio-api-v2010${response.content['application/json'].schema.$ref}`);
      if (!validate) throw new Error(`no schema for ${template}`);
      const body = typeof exchange.body === 'string' ? (JSON.parse(exchange.body) as unknown) : exchange.body;
      if (!validate(body)) problems.push(`${post.operationId}: ${(validate.errors ?? []).map(describeAjvError).join('; ')}`);
      checked[post.operationId] = (checked[post.operationId] ?? 0) + 1;
    }
    expect(problems).toEqual([]);
    expect(checked.CreatePayments).toBeGreaterThanOrEqual(10);
    expect(checked.UpdatePayments).toBeGreaterThanOrEqual(30);
    expect(checked.CreateMessage).toBeGreaterThanOrEqual(3);
    expect(checked.UpdateCall).toBeGreaterThanOrEqual(3);
  });

  test('when an answer breaks the schema, then the validation says so (the check can fail)', () => {
    const validate = ajv.getSchema('twilio-api-v2010#/components/schemas/api.v2010.account.call.payments');
    expect(validate?.({ sid: 'PKnot-hex', date_created: '2026-11-25T10:00:00Z' })).toBe(false);
    expect(validate?.({ sid: `PK${'Ab'.repeat(16)}`, account_sid: `AC${'0f'.repeat(16)}`, date_created: 'Wed, 25 Nov 2026 14:55:27 +0000' })).toBe(true);
  });
});

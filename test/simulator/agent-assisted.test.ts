import request from 'supertest';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { CallbackReceiver } from '../helpers/callback-receiver';
import { RecordingGateway } from '../helpers/recording-gateway';
import { startService, type TestService } from '../helpers/service';
import { ACCESS_KEY, ACCOUNT_ID } from '../helpers/test-data';

/**
 * Agent-assisted payments end to end, over HTTP only: an agent desktop (this test)
 * drives the simulator's Payments API, the caller's keypad sends DTMF, the simulator
 * calls the bridge as Twilio would, and status callbacks arrive at a real server.
 */
const ACCOUNT_SID = `AC${'a1'.repeat(16)}`;
const AUTH_TOKEN = 'test-auth-token';
const CARD = '4111111111111111';
const BAD_CARD = '4111111111111112';
const CVV = '973';
const ROUTING = '244183602';
const BANK_ACCOUNT = '123456789';

/** The callbacks of one pay session, from the receiver that got them all. */
const ofSession = (receiver: CallbackReceiver, sid: string) => receiver.received.map((request) => request.fields).filter((fields) => fields.Sid === sid);
const waitForSession = (receiver: CallbackReceiver, sid: string, predicate: (fields: Record<string, string>) => boolean) =>
  receiver.waitFor((fields) => fields.Sid === sid && predicate(fields));

let callCounter = 0;
const newCallSid = () => `CA${(++callCounter).toString(16).padStart(32, '0')}`;
let keyCounter = 0;

function agent(simulator: Simulator, callback: CallbackReceiver, callSid: string) {
  const payments = `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${callSid}/Payments`;
  const post = (path: string, form: Record<string, string>) =>
    request(simulator.url).post(path).auth(ACCOUNT_SID, AUTH_TOKEN).type('form').send({ IdempotencyKey: `key-${++keyCounter}`, StatusCallback: `${callback.url}/status`, ...form });
  let sid = '';
  return {
    async start(form: Record<string, string> = {}) {
      const response = await post(`${payments}.json`, { Timeout: '60', ...form });
      sid = response.body.sid;
      return response;
    },
    get sid() {
      return sid;
    },
    update: (form: Record<string, string>) => post(`${payments}/${sid}.json`, form),
    keypad: (digits: string) => request(simulator.url).post(`/simulator/calls/${callSid}/dtmf`).type('form').send({ Digits: digits }),
    hangUp: () => request(simulator.url).post(`/simulator/calls/${callSid}/hangup`),
    /** Capture one field: the agent asks, the caller types, the field's final callback arrives. */
    async capture(field: string, digits: string) {
      const before = ofSession(callback, sid).length;
      await this.update({ Capture: field });
      await this.keypad(digits);
      return waitForSession(callback, sid, (body) => body.Capture === field && body.PartialResult === 'false' && ofSession(callback, sid).indexOf(body) >= before);
    },
  };
}

describe('agent-assisted payments through the simulator and the bridge', () => {
  let service: TestService;
  let simulator: Simulator;
  const callback = new CallbackReceiver();

  beforeAll(async () => {
    await callback.start();
    service = await startService({ LOG_LEVEL: 'info' });
    simulator = await startSimulator({
      authToken: AUTH_TOKEN,
      connectors: { Default: { url: `${service.url}/`, username: ACCOUNT_ID, password: ACCESS_KEY } },
    });
  });
  afterAll(async () => {
    await simulator.stop();
    await service.stop();
    await callback.stop();
  });

  const bridgePayments = () => service.logs.entries().filter((entry) => entry.message === 'payment');

  test('when a card is captured in the agent’s order after a wrong number, then the bridge charges once and the final callback has the charge_id', async () => {
    const session = agent(simulator, callback, newCallSid());
    const started = await session.start({ ChargeAmount: '10.00', Currency: 'usd', Description: 'order 42' });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ account_sid: ACCOUNT_SID, sid: expect.stringMatching(/^PK[0-9a-f]{32}$/), uri: expect.stringContaining('/Payments/PK') });
    expect(started.body.date_created).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);

    const wrong = await session.capture('payment-card-number', `${BAD_CARD}#`);
    expect(wrong).toMatchObject({ ErrorType: 'invalid-card-number', Required: 'PaymentCardNumber,ExpirationDate,SecurityCode,PostalCode' });
    await session.update({ Capture: 'payment-card-number' });
    await session.keypad(CARD.slice(0, 6));
    await waitForSession(callback, session.sid, (body) => body.PartialResult === 'true' && body.PaymentCardNumber === 'xxxxxx');
    await session.keypad(`${CARD.slice(6)}#`);
    const captured = await waitForSession(callback, session.sid, (body) => body.PaymentCardNumber === 'xxxx xxxx xxxx 1111');
    expect(captured).toMatchObject({ PartialResult: 'false', PaymentCardType: 'visa', Required: 'ExpirationDate,SecurityCode,PostalCode' });

    expect(await session.capture('postal-code', '94111#')).toMatchObject({ PaymentCardPostalCode: '94111', Required: 'ExpirationDate,SecurityCode' });
    expect(await session.capture('expiration-date', '1230#')).toMatchObject({ ExpirationDate: '1230', Required: 'SecurityCode' });
    expect(await session.capture('security-code', `${CVV}#`)).toMatchObject({ SecurityCode: 'xxx', Required: '' });

    const before = bridgePayments().length;
    expect((await session.update({ Status: 'complete' })).status).toBe(200);
    const final = await waitForSession(callback, session.sid, (body) => body.Result !== undefined);
    expect(final).toMatchObject({ Result: 'success', PaymentConfirmationCode: expect.stringMatching(/^\d{12}$/) });
    const charged = bridgePayments().slice(before);
    expect(charged).toHaveLength(1);
    expect(charged[0]).toMatchObject({ outcome: 'approved', method: 'charge', last4: '1111', amount: '10.00' });
  });

  test('when no ChargeAmount is given, then the card is tokenized and the token arrives as PaymentToken', async () => {
    const session = agent(simulator, callback, newCallSid());
    await session.start({ SecurityCode: 'false', PostalCode: 'false' });
    await session.capture('payment-card-number', `${CARD}#`);
    await session.capture('expiration-date', '0831#');
    await session.update({ Status: 'complete' });
    expect(await waitForSession(callback, session.sid, (body) => body.Result !== undefined)).toMatchObject({ Result: 'success', PaymentToken: expect.stringMatching(/^\d{12}$/) });
  });

  test('when a bank account is captured, then the ACH charge succeeds with the account masked', async () => {
    const session = agent(simulator, callback, newCallSid());
    await session.start({ PaymentMethod: 'ach-debit', ChargeAmount: '25.00', BankAccountType: 'consumer-savings', Parameter: JSON.stringify({ name_on_account: 'Ann Lee' }) });
    expect(await session.capture('bank-routing-number', `${ROUTING}#`)).toMatchObject({ BankRoutingNumber: '*****3602' });
    expect(await session.capture('bank-account-number', `${BANK_ACCOUNT}#`)).toMatchObject({ BankAccountNumber: '*******89', Required: '' });
    await session.update({ Status: 'complete' });
    expect(await waitForSession(callback, session.sid, (body) => body.Result !== undefined)).toMatchObject({ Result: 'success', BankAccountType: 'consumer-savings' });
  });

  test('when the agent cancels mid-way, then the session ends and the bridge is never called', async () => {
    const session = agent(simulator, callback, newCallSid());
    await session.start({ ChargeAmount: '5.00' });
    await session.capture('payment-card-number', `${CARD}#`);
    const before = bridgePayments().length;
    await session.update({ Status: 'cancel' });
    await simulator.settled();
    expect(bridgePayments().length).toBe(before);
    expect((await session.update({ Capture: 'expiration-date' })).body).toMatchObject({ code: 64021 });
  });

  test('when the gateway declines (1.01), then the final callback says payment-connector-error with the gateway’s code', async () => {
    const session = agent(simulator, callback, newCallSid());
    await session.start({ ChargeAmount: '1.01', SecurityCode: 'false', PostalCode: 'false' });
    await session.capture('payment-card-number', `${CARD}#`);
    await session.capture('expiration-date', '1230#');
    await session.update({ Status: 'complete' });
    expect(await waitForSession(callback, session.sid, (body) => body.Result !== undefined)).toMatchObject({
      Result: 'payment-connector-error',
      ConnectorError: '30002',
      PayErrorCode: '64008',
      PaymentError: 'DECLINED',
    });
  });

  test('when the session is completed too early or started twice, then Twilio’s errors answer', async () => {
    const callSid = newCallSid();
    const session = agent(simulator, callback, callSid);
    await session.start({ ChargeAmount: '5.00' });
    const early = await session.update({ Status: 'complete' });
    expect(early.status).toBe(400);
    expect(early.body).toMatchObject({ code: 64019, more_info: 'https://www.twilio.com/docs/errors/64019' });
    const second = await agent(simulator, callback, callSid).start({ ChargeAmount: '5.00' });
    expect(second.body).toMatchObject({ code: 64021 });
    const sequence = await session.update({ Capture: 'security-code' });
    expect(sequence.status).toBe(200);
    expect(await waitForSession(callback, session.sid, (body) => body.ErrorType !== undefined)).toMatchObject({ ErrorType: 'invalid-card-number-security-code-capture-sequence' });
  });

  test('when the caller types nothing within Timeout, then the field ends with input-timeout', async () => {
    const session = agent(simulator, callback, newCallSid());
    await session.start({ ChargeAmount: '5.00', Timeout: '1' });
    await session.update({ Capture: 'payment-card-number' });
    await session.keypad('4111');
    expect(await waitForSession(callback, session.sid, (body) => body.ErrorType !== undefined)).toMatchObject({
      Capture: 'payment-card-number',
      PartialResult: 'false',
      ErrorType: 'input-timeout',
      Required: 'PaymentCardNumber,ExpirationDate,SecurityCode,PostalCode',
    });
  });

  test('when the account token is wrong, then Twilio’s 401 answers', async () => {
    const response = await request(simulator.url)
      .post(`/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${newCallSid()}/Payments.json`)
      .auth(ACCOUNT_SID, 'not-the-token')
      .type('form')
      .send({ IdempotencyKey: 'k', StatusCallback: `${callback.url}/status` });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ code: 20003, message: 'Authenticate' });
  });

  test('when every callback so far is read, then none holds a full card, CVV, bank account or routing number', async () => {
    await simulator.settled();
    const all = callback.received.map((request) => request.raw).join('\n');
    expect(callback.received.length).toBeGreaterThan(20);
    for (const clear of [CARD, BAD_CARD, ROUTING, BANK_ACCOUNT]) expect(all).not.toContain(clear);
    for (const { fields } of callback.received) if (fields.SecurityCode !== undefined) expect(fields.SecurityCode).toMatch(/^x*$/);
  });
});

describe('a slow gateway behind the bridge', () => {
  test('when the connector answers after Twilio’s wait, then the retry gets the result and the gateway is called once', async () => {
    const gateway = await new RecordingGateway().start();
    gateway.willAnswer({ body: JSON.stringify({ transaction_id: '000000008888', transaction_approved: true, error: false }), delayMs: 1_500 });
    const callback = await new CallbackReceiver().start();
    const service = await startService({ GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8` });
    // Twilio waits 10 s; waiting 0.5 s here forces the same retries sooner.
    const simulator = await startSimulator({
      authToken: AUTH_TOKEN,
      connectorWaitMs: 500,
      connectors: { Default: { url: `${service.url}/`, username: ACCOUNT_ID, password: ACCESS_KEY } },
    });
    try {
      const session = agent(simulator, callback, newCallSid());
      await session.start({ ChargeAmount: '10.00', SecurityCode: 'false', PostalCode: 'false' });
      await session.capture('payment-card-number', `${CARD}#`);
      await session.capture('expiration-date', '1230#');
      await session.update({ Status: 'complete' });
      expect(await waitForSession(callback, session.sid, (body) => body.Result !== undefined)).toMatchObject({ Result: 'success', PaymentConfirmationCode: '000000008888' });
      expect(gateway.requests).toHaveLength(1);
      const arrivals = service.logs.entries().filter((entry) => entry.message === 'payment').map((entry) => entry.arrival);
      expect(arrivals.filter((arrival) => arrival === 'first')).toHaveLength(1);
      expect(arrivals.length).toBeGreaterThan(1);
    } finally {
      await simulator.stop();
      await service.stop();
      await gateway.stop();
      await callback.stop();
    }
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { startSimulator, type Simulator } from '../../src/simulator/simulator-server';
import { CallbackReceiver } from '../helpers/callback-receiver';
import { RecordingGateway } from '../helpers/recording-gateway';
import { startService, type TestService } from '../helpers/service';
import { ACCESS_KEY, ACCOUNT_ID } from '../helpers/test-data';
import { expectNoTypedValues } from './callback-secrets';

/**
 * Agent-assisted payments end to end, over HTTP only: an agent desktop (this test)
 * drives the simulator's Payments API, the caller's keypad sends DTMF, the simulator
 * calls the bridge as Twilio would, and status callbacks arrive at a real server.
 */
const ACCOUNT_SID = `AC${'a1'.repeat(16)}`;
const OTHER_ACCOUNT_SID = `AC${'b2'.repeat(16)}`;
const AUTH_TOKEN = 'test-auth-token';
const ADMIN_TOKEN = 'simulator-test-admin-token';
const CARD = '4111111111111111';
const BAD_CARD = '4111111111111112';
const CVV = '973';
const ROUTING = '244183602';
const BANK_ACCOUNT = '123456789';
/** Every clear value typed on the keypad in this file; no callback body may hold one. */
const TYPED = { cards: [CARD, BAD_CARD], cvvs: [CVV], bankAccounts: [BANK_ACCOUNT], routingNumbers: [ROUTING] };

/** Every receiver this file starts, so that the last test can read every body any of them got. */
const receivers: CallbackReceiver[] = [];
const newReceiver = () => {
  const receiver = new CallbackReceiver();
  receivers.push(receiver);
  return receiver;
};

/** A connector that holds each request until the test lets it answer: a session stays `completing`. */
class HeldConnector {
  readonly requests: string[] = [];
  private readonly waiting: http.ServerResponse[] = [];
  private readonly server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      this.requests.push(body);
      this.waiting.push(res);
    });
  });
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this;
  }

  async received(count: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (this.requests.length < count) {
      if (Date.now() > deadline) throw new Error('the connector was not called');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  answerAll(body: Record<string, unknown>): void {
    for (const res of this.waiting.splice(0)) res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  }

  async stop(): Promise<void> {
    for (const res of this.waiting.splice(0)) res.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

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
  const callback = newReceiver();
  const held = new HeldConnector();

  beforeAll(async () => {
    await callback.start();
    await held.start();
    service = await startService({ LOG_LEVEL: 'info', ADMIN_TOKEN });
    simulator = await startSimulator({
      authToken: AUTH_TOKEN,
      connectors: {
        Default: { url: `${service.url}/`, username: ACCOUNT_ID, password: ACCESS_KEY },
        Held: { url: held.url, username: 'held', password: 'held-password' },
      },
    });
  });
  afterAll(async () => {
    // Every callback queued goes out before the receiver stops, for the file's last test to read.
    await simulator.settled();
    await simulator.stop();
    await held.stop();
    await service.stop();
    await callback.stop();
  });

  const bridgePayments = () => service.logs.entries().filter((entry) => entry.message === 'payment');
  /** The id the bridge answered for one payment (charge_id or token_id), from its journal. */
  const bridgeAnswerId = async (payment: Record<string, unknown> | undefined) => {
    const answer = await request(service.url).get(`/transactions/${String(payment?.transaction_id)}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(answer.status).toBe(200);
    expect(answer.body.records).toHaveLength(1);
    expect(answer.body.records[0]).toMatchObject({ status: 'approved', gateway_transaction_id: expect.any(String) });
    return answer.body.records[0].gateway_transaction_id as string;
  };
  const createWithKey = (accountSid: string, callSid: string, key: string) =>
    request(simulator.url)
      .post(`/2010-04-01/Accounts/${accountSid}/Calls/${callSid}/Payments.json`)
      .auth(accountSid, AUTH_TOKEN)
      .type('form')
      .send({ IdempotencyKey: key, StatusCallback: `${callback.url}/status`, ChargeAmount: '5.00' });

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
    expect((await session.update({ Status: 'complete' })).status).toBe(202);
    const final = await waitForSession(callback, session.sid, (body) => body.Result !== undefined);
    const charged = bridgePayments().slice(before);
    expect(charged).toHaveLength(1);
    expect(charged[0]).toMatchObject({ outcome: 'approved', method: 'charge', last4: '1111', amount: '10.00' });
    expect(final).toMatchObject({ Result: 'success', PaymentConfirmationCode: await bridgeAnswerId(charged[0]) });
  });

  test('when no ChargeAmount is given, then the card is tokenized and the token arrives as PaymentToken', async () => {
    const session = agent(simulator, callback, newCallSid());
    await session.start({ SecurityCode: 'false', PostalCode: 'false' });
    await session.capture('payment-card-number', `${CARD}#`);
    await session.capture('expiration-date', '0831#');
    const before = bridgePayments().length;
    await session.update({ Status: 'complete' });
    const final = await waitForSession(callback, session.sid, (body) => body.Result !== undefined);
    const tokenized = bridgePayments().slice(before);
    expect(tokenized).toHaveLength(1);
    expect(tokenized[0]).toMatchObject({ outcome: 'approved', method: 'tokenize' });
    expect(final).toMatchObject({ Result: 'success', PaymentToken: await bridgeAnswerId(tokenized[0]) });
    expect(final.PaymentConfirmationCode).toBeUndefined();
  });

  test('when a bank account is captured, then the ACH charge succeeds with the account masked', async () => {
    const session = agent(simulator, callback, newCallSid());
    await session.start({ PaymentMethod: 'ach-debit', ChargeAmount: '25.00', BankAccountType: 'consumer-savings', Parameter: JSON.stringify({ name_on_account: 'Ann Lee' }) });
    expect(await session.capture('bank-routing-number', `${ROUTING}#`)).toMatchObject({ BankRoutingNumber: '*****3602' });
    expect(await session.capture('bank-account-number', `${BANK_ACCOUNT}#`)).toMatchObject({ BankAccountNumber: '*******89', Required: '' });
    await session.update({ Status: 'complete' });
    expect(await waitForSession(callback, session.sid, (body) => body.Result !== undefined)).toMatchObject({ Result: 'success', BankAccountType: 'consumer-savings' });
    expect(ofSession(callback, session.sid).map((body) => body.BankAccountType)).toEqual(ofSession(callback, session.sid).map(() => 'consumer-savings'));
  });

  test('when a card session posts its callbacks, then each carries BankAccountType, blank, as a field sent always', async () => {
    const session = agent(simulator, callback, newCallSid());
    await session.start({ ChargeAmount: '5.00' });
    await session.capture('payment-card-number', `${CARD}#`);
    await session.update({ Status: 'cancel' });
    await simulator.settled();
    const bodies = ofSession(callback, session.sid);
    expect(bodies.length).toBeGreaterThanOrEqual(3);
    for (const body of bodies) expect(body).toMatchObject({ BankAccountType: '', PaymentMethod: 'credit-card', ChargeAmount: '5.00', TokenType: 'reusable' });
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
    expect(sequence.status).toBe(202);
    expect(await waitForSession(callback, session.sid, (body) => body.ErrorType !== undefined)).toMatchObject({ ErrorType: 'invalid-card-number-security-code-capture-sequence' });
  });

  test('when another call or another account reuses an IdempotencyKey, then each gets its own session, and only a retry on the same call gets the same answer', async () => {
    const key = 'order-42-start';
    const callA = newCallSid();
    const callB = newCallSid();
    const first = await createWithKey(ACCOUNT_SID, callA, key);
    expect(first.status).toBe(201);
    const retry = await createWithKey(ACCOUNT_SID, callA, key);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);

    const otherCall = await createWithKey(ACCOUNT_SID, callB, key);
    expect(otherCall.status).toBe(201);
    expect(otherCall.body).toMatchObject({ account_sid: ACCOUNT_SID, call_sid: callB });
    expect(otherCall.body.sid).not.toBe(first.body.sid);

    // The first session ends; another account starting on that call with the same key gets a session of its own.
    const cancel = await request(simulator.url)
      .post(`/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${callA}/Payments/${first.body.sid}.json`)
      .auth(ACCOUNT_SID, AUTH_TOKEN)
      .type('form')
      .send({ IdempotencyKey: key, StatusCallback: `${callback.url}/status`, Status: 'cancel' });
    expect(cancel.status).toBe(202);
    const otherAccount = await createWithKey(OTHER_ACCOUNT_SID, callA, key);
    expect(otherAccount.status).toBe(201);
    expect(otherAccount.body).toMatchObject({ account_sid: OTHER_ACCOUNT_SID, call_sid: callA });
    expect([first.body.sid, otherCall.body.sid]).not.toContain(otherAccount.body.sid);
  });

  test('when another account updates a session with its sid and call, then 404 and the session is untouched', async () => {
    const callSid = newCallSid();
    const session = agent(simulator, callback, callSid);
    await session.start({ ChargeAmount: '5.00' });
    const foreign = await request(simulator.url)
      .post(`/2010-04-01/Accounts/${OTHER_ACCOUNT_SID}/Calls/${callSid}/Payments/${session.sid}.json`)
      .auth(OTHER_ACCOUNT_SID, AUTH_TOKEN)
      .type('form')
      .send({ IdempotencyKey: 'foreign-1', StatusCallback: `${callback.url}/foreign`, Status: 'cancel' });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ code: 20404 });
    await simulator.settled();
    expect(callback.at('/foreign')).toEqual([]);
    expect((await session.update({ Capture: 'payment-card-number' })).status).toBe(202);
    await session.update({ Status: 'cancel' });
  });

  test('when a Create or a <Pay> arrives while the connector is still being called after Status=complete, then Twilio’s 64021 answers until the session ends', async () => {
    const callSid = newCallSid();
    const session = agent(simulator, callback, callSid);
    await session.start({ ChargeAmount: '5.00', PaymentConnector: 'Held', SecurityCode: 'false', PostalCode: 'false' });
    await session.capture('payment-card-number', `${CARD}#`);
    await session.capture('expiration-date', '1230#');
    const calls = held.requests.length;
    expect((await session.update({ Status: 'complete' })).status).toBe(202);
    await held.received(calls + 1);

    const second = await agent(simulator, callback, callSid).start({ ChargeAmount: '5.00' });
    expect(second.status).toBe(400);
    expect(second.body).toMatchObject({ code: 64021 });
    const ivr = await request(simulator.url).post(`/simulator/calls/${callSid}/pay`).type('form').send({ action: `${callback.url}/ivr`, chargeAmount: '5.00' });
    expect(ivr.status).toBe(400);
    expect(ivr.body).toMatchObject({ code: 64021 });
    expect((await session.update({ Capture: 'expiration-date' })).body).toMatchObject({ code: 64021 });

    held.answerAll({ charge_id: 'ch_held_1', error_code: null, error_message: null });
    expect(await waitForSession(callback, session.sid, (body) => body.Result !== undefined)).toMatchObject({ Result: 'success', PaymentConfirmationCode: 'ch_held_1' });
    const afterwards = agent(simulator, callback, callSid);
    expect((await afterwards.start({ ChargeAmount: '5.00' })).status).toBe(201);
    await afterwards.update({ Status: 'cancel' });
  });

  test('when a <Pay> is running on the call, then a Create gets Twilio’s 64021 until the caller hangs up', async () => {
    const callSid = newCallSid();
    const ivr = await request(simulator.url).post(`/simulator/calls/${callSid}/pay`).type('form').send({ action: `${callback.url}/ivr`, chargeAmount: '5.00', timeout: '60' });
    expect(ivr.status).toBe(201);
    const session = agent(simulator, callback, callSid);
    const refused = await session.start({ ChargeAmount: '5.00' });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 64021 });
    expect((await session.hangUp()).status).toBe(204);
    expect((await session.start({ ChargeAmount: '5.00' })).status).toBe(201);
    await session.update({ Status: 'cancel' });
  });

  test.each(['soon', '0'])('when Timeout is %p, then the default 5 s applies instead of an instant input-timeout', async (timeout) => {
    const session = agent(simulator, callback, newCallSid());
    await session.start({ ChargeAmount: '5.00', Timeout: timeout });
    await session.update({ Capture: 'payment-card-number' });
    await session.keypad(CARD.slice(0, 4));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(ofSession(callback, session.sid).filter((body) => body.ErrorType !== undefined)).toEqual([]);
    await session.keypad(`${CARD.slice(4)}#`);
    const captured = await waitForSession(callback, session.sid, (body) => body.PartialResult === 'false');
    expect(captured).toMatchObject({ PaymentCardNumber: 'xxxx xxxx xxxx 1111' });
    expect(captured.ErrorType).toBeUndefined();
    await session.update({ Status: 'cancel' });
  });

  test('when MinPostalCodeLength is not a number, then a postal code is accepted as if it were not given', async () => {
    const session = agent(simulator, callback, newCallSid());
    await session.start({ ChargeAmount: '5.00', MinPostalCodeLength: 'five' });
    const postal = await session.capture('postal-code', '94111#');
    expect(postal).toMatchObject({ PaymentCardPostalCode: '94111' });
    expect(postal.ErrorType).toBeUndefined();
    await session.update({ Status: 'cancel' });
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

  test('when the account token is wrong, then Twilio’s 401 answers with a Basic challenge', async () => {
    const response = await request(simulator.url)
      .post(`/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${newCallSid()}/Payments.json`)
      .auth(ACCOUNT_SID, 'not-the-token')
      .type('form')
      .send({ IdempotencyKey: 'k', StatusCallback: `${callback.url}/status` });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Basic realm="Twilio API"');
    expect(response.body).toMatchObject({ code: 20003, message: 'Authenticate' });
  });
});

describe('a slow gateway behind the bridge', () => {
  test('when the connector answers after Twilio’s wait, then the retry gets the result and the gateway is called once', async () => {
    const gateway = await new RecordingGateway().start();
    gateway.willAnswer({ body: JSON.stringify({ transaction_id: '000000008888', transaction_approved: true, error: false }), delayMs: 1_500 });
    const callback = await newReceiver().start();
    const service = await startService({ GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8` });
    // Twilio waits 10 s; waiting 0.5 s here forces the same retries sooner.
    const simulator = await startSimulator({
      authToken: AUTH_TOKEN,
      connectorWaitMs: 500,
      connectors: { Default: { url: `${service.url}/`, username: ACCOUNT_ID, password: ACCESS_KEY } },
    });
    try {
      const session = agent(simulator, callback, newCallSid());
      await session.start({ ChargeAmount: '10.00', PostalCode: 'false' });
      await session.capture('payment-card-number', `${CARD}#`);
      await session.capture('expiration-date', '1230#');
      await session.capture('security-code', `${CVV}#`);
      await session.update({ Status: 'complete' });
      expect(await waitForSession(callback, session.sid, (body) => body.Result !== undefined)).toMatchObject({ Result: 'success', PaymentConfirmationCode: '000000008888' });
      expect(gateway.requests).toHaveLength(1);
      const arrivals = service.logs.entries().filter((entry) => entry.message === 'payment').map((entry) => entry.arrival);
      expect(arrivals.filter((arrival) => arrival === 'first')).toHaveLength(1);
      expect(arrivals.length).toBeGreaterThan(1);
    } finally {
      await simulator.settled();
      await simulator.stop();
      await service.stop();
      await gateway.stop();
      await callback.stop();
    }
  });
});

describe('every callback body of this file', () => {
  test('when every body any receiver got is read raw, then none holds a full card, CVV, bank account or routing number', () => {
    expect(receivers.length).toBeGreaterThanOrEqual(2);
    for (const receiver of receivers) expect(receiver.received.length).toBeGreaterThan(0);
    expectNoTypedValues(receivers, TYPED);
  });
});

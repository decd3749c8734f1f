import { randomBytes } from 'node:crypto';
import { verifyWebhookSignature } from '../../src/sessions/webhook-delivery';
import { WEBHOOK_SECRET, eventually } from '../helpers/api-clients';
import { ADMIN_TOKEN, openEventStream, startSessionStack, type SessionStack } from '../helpers/session-stack';

/**
 * Agent-assisted payment sessions end to end, over HTTP only: an API client (the merchant's CRM)
 * with its token, the service, Twilio played by the simulator (signed callbacks), the caller's
 * keypad, and the service's own connector endpoint and embedded sandbox gateway behind Twilio.
 */
let stack: SessionStack;
let token: string;
beforeAll(async () => {
  stack = await startSessionStack();
  token = await stack.token();
});
afterAll(async () => {
  await stack?.stop();
});

const newCall = () => `CA${randomBytes(16).toString('hex')}`;

async function session(body: Record<string, unknown>) {
  const created = await stack.api(token).post('/v1/sessions').set('Authorization', `Bearer ${token}`).send({ type: 'agent', call_sid: newCall(), ...body });
  expect({ status: created.status, body: created.body }).toMatchObject({ status: 201 });
  return created.body as { id: string; call_sid: string; state: string };
}
const get = async (id: string) => (await stack.api(token).get(`/v1/sessions/${id}`).set('Authorization', `Bearer ${token}`)).body;
const act = (id: string, action: string, body?: object) => stack.api(token).post(`/v1/sessions/${id}/${action}`).set('Authorization', `Bearer ${token}`).send(body ?? {});

async function typeField(id: string, callSid: string, field: string, digits: string) {
  expect((await act(id, 'capture', { field })).status).toBe(200);
  await stack.keypad(callSid, `${digits}#`);
}

test('when a card is charged on a live call, then the caller types it field by field, the stream shows the length rising, and the session ends succeeded with the charge_id the journal holds', async () => {
  const created = await session({ amount: '10.00', reference: 'order-1001' });
  expect(created.state).toBe('capturing');
  const stream = await openEventStream(`${stack.service.url}/v1/sessions/${created.id}/events`, token);
  try {
    // A wrong number first: the field is invalid, then asked again.
    await typeField(created.id, created.call_sid, 'card_number', '4111111111111112');
    await stream.until((event) => (event.data.fields as Record<string, { state: string }>).card_number?.state === 'invalid', 'the invalid card number');

    expect((await act(created.id, 'capture', { field: 'card_number' })).status).toBe(200);
    for (const digits of ['4111', '1111', '1111', '1111']) await stack.keypad(created.call_sid, digits);
    await stack.keypad(created.call_sid, '#');
    await stream.until((event) => (event.data.fields as Record<string, { state: string }>).card_number?.state === 'captured', 'the captured card number');
    const lengths = stream.events.map((event) => (event.data.fields as Record<string, { length: number; state: string }>).card_number).filter((field) => field?.state === 'capturing').map((field) => field!.length);
    expect(lengths).toEqual(expect.arrayContaining([4, 8, 12]));

    // The other fields in the agent's own order.
    await typeField(created.id, created.call_sid, 'postal_code', '94111');
    await typeField(created.id, created.call_sid, 'expiry', '1230');
    await typeField(created.id, created.call_sid, 'security_code', '123');
    await eventually(() => stream.events.some((event) => (event.data.required as string[]).length === 0), 'nothing left to collect');

    expect((await act(created.id, 'complete')).body.state).toBe('processing');
    const ended = await stream.until((event) => event.data.state === 'succeeded', 'the success');
    const result = ended.data.result as { charge_id: string };
    expect(result.charge_id).toMatch(/^\d{12}$/);

    const journal = await stack.api(token).get('/transactions?limit=100').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    const record = (journal.body.records as Array<{ gateway_transaction_id: string; status: string; last4: string }>).find((r) => r.gateway_transaction_id === result.charge_id);
    expect(record).toMatchObject({ status: 'approved', last4: '1111' });
    expect(await get(created.id)).toMatchObject({ state: 'succeeded', result: { charge_id: result.charge_id }, fields: { card_number: { display: 'xxxx xxxx xxxx 1111', state: 'captured' } } });

    // The client's webhook: once, signed with its webhook secret, the session as it ended.
    const hooks = () =>
      stack.receiver.received.filter((hook) => {
        const event = JSON.parse(hook.body) as { type: string; data: { id: string } };
        return event.data.id === created.id && event.type === 'session.succeeded';
      });
    await eventually(() => hooks().length > 0, 'the session.succeeded webhook');
    await stack.simulator.settled();
    const [hook] = hooks();
    expect(hooks()).toHaveLength(1);
    expect(verifyWebhookSignature(hook!.body, String(hook!.headers['paybridge-signature']), WEBHOOK_SECRET)).toBe(true);
    expect(verifyWebhookSignature(hook!.body.replace(result.charge_id, '000000000000'), String(hook!.headers['paybridge-signature']), WEBHOOK_SECRET)).toBe(false);
    expect(JSON.parse(hook!.body)).toMatchObject({ id: expect.stringMatching(/^evt_/), type: 'session.succeeded', data: { id: created.id, state: 'succeeded', result: { charge_id: result.charge_id } } });
  } finally {
    stream.close();
  }
});

/** Every field of the session typed on the keypad, in the order given; resolves once nothing is required. */
async function collect(id: string, callSid: string, fields: Array<[string, string]>) {
  for (const [field, digits] of fields) await typeField(id, callSid, field, digits);
  const now = await get(id);
  expect(now.required).toEqual([]);
}

async function settled(id: string) {
  let current = await get(id);
  const deadline = Date.now() + 20_000;
  while (['created', 'capturing', 'processing'].includes(current.state) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    current = await get(id);
  }
  return current;
}

const CARD: Array<[string, string]> = [
  ['card_number', '5555555555554444'],
  ['expiry', '1230'],
  ['security_code', '123'],
  ['postal_code', '94111'],
];

test('when a card is saved without a charge, then the session succeeds with a token_id', async () => {
  const created = await session({ reference: 'save-card' });
  await collect(created.id, created.call_sid, CARD);
  await act(created.id, 'complete');
  const ended = await settled(created.id);
  expect(ended).toMatchObject({ state: 'succeeded', amount: null, result: { token_id: expect.stringMatching(/^\d{12}$/), error_code: null } });
});

test('when a bank account is charged, then the routing number shows only its last 4 and the session succeeds', async () => {
  const created = await session({ amount: '25.00', payment_method: 'ach' });
  expect(Object.keys((await get(created.id)).fields)).toEqual(['routing_number', 'account_number']);
  await collect(created.id, created.call_sid, [
    ['routing_number', '244183602'],
    ['account_number', '1234567890123'],
  ]);
  const collected = await get(created.id);
  expect(collected.fields.routing_number.display).toBe('*****3602');
  expect(JSON.stringify(collected)).not.toMatch(/244183602|1234567890123/);
  await act(created.id, 'complete');
  expect(await settled(created.id)).toMatchObject({ state: 'succeeded', result: { charge_id: expect.stringMatching(/^\d{12}$/) } });
});

test('when the gateway declines (1.01), then the session fails with the gateway\'s code and Twilio\'s', async () => {
  const created = await session({ amount: '1.01' });
  await collect(created.id, created.call_sid, CARD);
  await act(created.id, 'complete');
  expect(await settled(created.id)).toMatchObject({ state: 'failed', result: { charge_id: null, error_code: '30002', twilio_error_code: '64008' } });
});

test('when the agent cancels, then the session is cancelled, the call may start another, and actions on it are 409', async () => {
  const created = await session({ amount: '5.00' });
  await typeField(created.id, created.call_sid, 'card_number', '4111111111111111');
  expect((await act(created.id, 'cancel')).body.state).toBe('cancelled');
  const refused = await act(created.id, 'capture', { field: 'expiry' });
  expect(refused.status).toBe(409);
  expect(refused.body).toEqual({ error: { code: 'SESSION_ENDED', message: 'The session has ended (cancelled)' } });
  const again = await stack.api(token).post('/v1/sessions').set('Authorization', `Bearer ${token}`).send({ type: 'agent', call_sid: created.call_sid, amount: '5.00' });
  expect(again.status).toBe(201);
  await act(again.body.id, 'cancel');
});

test('when actions do not fit the state, then each gets its own 409 code', async () => {
  const created = await session({ amount: '5.00' });
  expect((await act(created.id, 'complete')).body.error.code).toBe('FIELDS_MISSING');
  expect((await act(created.id, 'capture', { field: 'security_code' })).body.error.code).toBe('CARD_NUMBER_FIRST');
  expect((await act(created.id, 'capture', { field: 'routing_number' })).body.error.code).toBe('FIELD_NOT_IN_SESSION');
  const second = await stack.api(token).post('/v1/sessions').set('Authorization', `Bearer ${token}`).send({ type: 'agent', call_sid: created.call_sid, amount: '5.00' });
  expect(second.status).toBe(409);
  expect(second.body.error.code).toBe('CALL_HAS_ACTIVE_SESSION');
  await act(created.id, 'cancel');
});

test('when the same Idempotency-Key comes with the same body, then the same session; with another body, 409', async () => {
  const body = { type: 'agent', call_sid: newCall(), amount: '7.00' };
  const send = (payload: object) => stack.api(token).post('/v1/sessions').set('Authorization', `Bearer ${token}`).set('Idempotency-Key', 'crm-order-77').send(payload);
  const first = await send(body);
  const again = await send(body);
  expect(again.body.id).toBe(first.body.id);
  const other = await send({ ...body, amount: '8.00' });
  expect(other.status).toBe(409);
  expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  await act(first.body.id, 'cancel');
});

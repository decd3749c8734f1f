import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import twilio from 'twilio';
import { eventually } from '../helpers/api-clients';
import { ACCOUNT_SID, ADMIN_TOKEN, AUTH_TOKEN, startSessionStack, type SessionStack } from '../helpers/session-stack';
import { temporaryDataDir } from '../helpers/service';
import { SimulatorTwilioApp } from '../helpers/simulator-twilio-app';

/**
 * IVR self-service sessions end to end: the merchant's IVR (an app with Twilio's own webhook
 * middleware) creates a session, the call is redirected to its twiml_url through the simulator's
 * live call control, the caller types on the keypad, the service's hosted <Pay> calls the service's
 * own connector endpoint (sandbox gateway), and the call comes back to the IVR's return_url.
 */
let stack: SessionStack;
let ivr: SimulatorTwilioApp;
let token: string;
beforeAll(async () => {
  stack = await startSessionStack({ IVR_PROMPTS_FILE: path.join(__dirname, '..', '..', 'prompts', 'ivr-prompts.example.yaml') });
  ivr = await new SimulatorTwilioApp(AUTH_TOKEN).start();
  ivr.answer('/return', () => new twilio.twiml.VoiceResponse().say('Back in the menu.'));
  token = await stack.token();
});
afterAll(async () => {
  await stack?.stop();
  await ivr?.stop();
});

interface Created {
  id: string;
  state: string;
  call_sid: string | null;
  twiml_url?: string;
}

async function newCall(): Promise<string> {
  const answer = await request(stack.simulator.url).post('/simulator/calls').type('form').send({ AccountSid: ACCOUNT_SID });
  expect(answer.status).toBe(201);
  return answer.body.CallSid as string;
}
async function createIvr(body: Record<string, unknown>): Promise<Created> {
  const answer = await stack.api(token).post('/v1/sessions').set('Authorization', `Bearer ${token}`).send({ type: 'ivr', return_url: `${ivr.url}/return`, ...body });
  expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 201 });
  return answer.body as Created;
}
const get = async (id: string) => (await stack.api(token).get(`/v1/sessions/${id}`).set('Authorization', `Bearer ${token}`)).body;
/** Twilio's call update, as the merchant's IVR would send it: the call fetches its TwiML from `url`. */
async function redirectCall(callSid: string, url: string): Promise<void> {
  const answer = await request(stack.simulator.url).post(`/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${callSid}.json`).auth(ACCOUNT_SID, AUTH_TOKEN).type('form').send({ Url: url });
  expect(answer.status).toBe(200);
}
const callEvents = async (callSid: string) => (await request(stack.simulator.url).get(`/simulator/calls/${callSid}/events`)).body.events as Array<Record<string, unknown>>;
/**
 * The caller presses keys. Not the stack's keypad(), which waits for all the simulator's work:
 * a call's <Pay> is that work until it ends, and the caller would time out waiting for itself.
 */
async function press(callSid: string, digits: string): Promise<void> {
  await request(stack.simulator.url).post(`/simulator/calls/${callSid}/dtmf`).type('form').send({ Digits: digits }).expect(204);
}
async function whenPaying(callSid: string): Promise<void> {
  await eventually(async () => (await callEvents(callSid)).some((event) => event.type === 'pay-started'), 'the <Pay> to start');
}
/** The IVR's return_url request for a session: its query says how the payment went. */
async function returned(id: string): Promise<URLSearchParams> {
  const back = await ivr.waitFor((entry) => entry.path === '/return' && new URL(entry.url).searchParams.get('session') === id);
  expect(back.accepted).toBe(true);
  expect(back.method).toBe('POST');
  return new URL(back.url).searchParams;
}
/** A request signed as Twilio signs: what only Twilio (holding the auth token) can send. */
function signedPost(url: string, params: Record<string, string>) {
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);
  return request(url).post('').set('X-Twilio-Signature', signature).type('form').send(params);
}
async function gatewayCalls(): Promise<number> {
  const metrics = (await request(stack.service.url).get('/metrics')).text;
  return [...metrics.matchAll(/^paybridge_gateway_duration_seconds_count\{[^}]*\} (\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}
async function journalRecords(transactionId: string) {
  const answer = await request(stack.service.url).get(`/transactions/${transactionId}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
  return answer.status === 404 ? [] : (answer.body.records as Array<{ status: string; gateway_transaction_id: string | null; last4: string }>);
}

test('when the IVR redirects a call to the twiml_url and the caller types a card, then it is charged once and the call returns to the IVR with the session succeeded', async () => {
  const callSid = await newCall();
  const before = await gatewayCalls();
  const created = await createIvr({ call_sid: callSid, amount: '10.00', reference: 'order-2001' });
  expect(created).toMatchObject({ state: 'created', call_sid: callSid, twiml_url: expect.stringMatching(/\/twilio\/ivr\/[A-Za-z0-9_-]{43}$/) });
  expect(created.twiml_url).not.toContain(created.id);
  // Shown once: never in a read or a list.
  expect(JSON.stringify(await get(created.id))).not.toContain(created.twiml_url!.split('/').pop());

  await redirectCall(callSid, created.twiml_url!);
  await whenPaying(callSid);
  expect(await get(created.id)).toMatchObject({ state: 'capturing' });
  await press(callSid, '4111111111111111#');
  await eventually(async () => (await get(created.id)).fields.card_number.state === 'captured', 'the card number captured');
  await press(callSid, '1230#');
  await press(callSid, '123#');
  await press(callSid, '94111#');

  const back = await returned(created.id);
  expect(Object.fromEntries(back)).toEqual({ session: created.id, state: 'succeeded', reference: 'order-2001' });
  const session = await get(created.id);
  expect(session).toMatchObject({
    state: 'succeeded',
    required: [],
    result: { charge_id: expect.stringMatching(/^\d{12}$/), error_code: null, transaction_id: expect.any(String) },
    fields: { card_number: { state: 'captured', display: 'xxxx xxxx xxxx 1111' }, security_code: { state: 'captured', display: 'xxx' } },
  });
  const records = await journalRecords(session.result.transaction_id);
  expect(records).toEqual([expect.objectContaining({ status: 'approved', gateway_transaction_id: session.result.charge_id, last4: '1111' })]);
  expect((await gatewayCalls()) - before).toBe(1);
  // After the payment, the IVR goes on with what its return_url answered.
  await eventually(async () => (await callEvents(callSid)).some((event) => event.type === 'say' && event.text === 'Back in the menu.'), 'the IVR again');
  const history = (await stack.api(token).get(`/v1/sessions/${created.id}/history`).set('Authorization', `Bearer ${token}`)).body.history as Array<{ action: string; actor: string }>;
  expect(history.map((entry) => entry.action)).toEqual(expect.arrayContaining(['created', 'pay-started', 'pay-ended']));
  // The client's webhook, once.
  await eventually(() => stack.receiver.received.some((hook) => hook.body.includes(created.id) && hook.body.includes('session.succeeded')), 'the webhook');
});

test('when the twiml_url is fetched again, during the payment, after it, or ten times at once, then Twilio never gets a second <Pay>', async () => {
  const callSid = await newCall();
  const before = await gatewayCalls();
  const created = await createIvr({ call_sid: callSid, amount: '12.00', reference: 'order-2002' });
  const fetches = await Promise.all(Array.from({ length: 10 }, () => signedPost(created.twiml_url!, { CallSid: callSid, AccountSid: ACCOUNT_SID })));
  expect(fetches.map((answer) => answer.status)).toEqual(Array(10).fill(200));
  const pays = fetches.filter((answer) => answer.text.includes('<Pay'));
  expect(pays).toHaveLength(1);
  const redirect = fetches.find((answer) => !answer.text.includes('<Pay'))!.text;
  expect(redirect).toMatch(/<Redirect method="POST">http:\/\/127\.0\.0\.1:\d+\/return\?session=ps_[0-9a-f]{32}&amp;state=capturing&amp;reference=order-2002<\/Redirect>/);
  // The one <Pay> says everything the session asked for, and reports back to the service.
  const pay = pays[0]!.text;
  expect(pay).toContain('chargeAmount="12.00"');
  expect(pay).toContain(`action="${stack.service.url}/twilio/ivr/sessions/${created.id}/result"`);
  expect(pay).toContain(`statusCallback="${stack.service.url}/twilio/sessions/${created.id}/status"`);
  expect(pay).toContain(`<Parameter name="session_id" value="${created.id}"/>`);
  expect(pay).toContain('<Parameter name="reference" value="order-2002"/>');

  // The call itself redirected to the used link goes straight back to the IVR, as do later fetches.
  await redirectCall(callSid, created.twiml_url!);
  expect(Object.fromEntries(await returned(created.id))).toMatchObject({ state: 'capturing' });
  expect((await callEvents(callSid)).some((event) => event.type === 'pay-started')).toBe(false);
  expect((await gatewayCalls()) - before).toBe(0);
  const again = await signedPost(created.twiml_url!, { CallSid: callSid });
  expect(again.text).not.toContain('<Pay');
});

test('when the caller presses * the session ends cancelled; when the caller hangs up too; and the call goes back with that state', async () => {
  const starCall = await newCall();
  const star = await createIvr({ call_sid: starCall, amount: '10.00' });
  await redirectCall(starCall, star.twiml_url!);
  await whenPaying(starCall);
  await press(starCall, '4111*');
  expect((await returned(star.id)).get('state')).toBe('cancelled');
  expect(await get(star.id)).toMatchObject({ state: 'cancelled', result: { error_code: 'caller-interrupted-with-star', charge_id: null } });

  const hangupCall = await newCall();
  const hangup = await createIvr({ call_sid: hangupCall, amount: '10.00' });
  await redirectCall(hangupCall, hangup.twiml_url!);
  await whenPaying(hangupCall);
  await request(stack.simulator.url).post(`/simulator/calls/${hangupCall}/hangup`).expect(204);
  await eventually(async () => (await get(hangup.id)).state === 'cancelled', 'the hang-up to cancel the session');
  expect((await get(hangup.id)).result).toMatchObject({ error_code: 'caller-hung-up' });
});

test('when the caller fails every attempt, or the gateway declines, then the session ends failed with the reason', async () => {
  const triesCall = await newCall();
  const tries = await createIvr({ call_sid: triesCall, amount: '10.00', max_attempts: 2 });
  await redirectCall(triesCall, tries.twiml_url!);
  await whenPaying(triesCall);
  await press(triesCall, '4111111111111112#');
  await press(triesCall, '1234#');
  expect((await returned(tries.id)).get('state')).toBe('failed');
  expect(await get(tries.id)).toMatchObject({ state: 'failed', result: { error_code: 'too-many-failed-attempts', charge_id: null }, fields: { card_number: { state: 'invalid', error: 'invalid-card-number' } } });

  const declineCall = await newCall();
  const decline = await createIvr({ call_sid: declineCall, amount: '1.01', reference: 'order-2004' });
  await redirectCall(declineCall, decline.twiml_url!);
  await whenPaying(declineCall);
  for (const digits of ['4111111111111111#', '1230#', '123#', '94111#']) await press(declineCall, digits);
  expect(Object.fromEntries(await returned(decline.id))).toMatchObject({ state: 'failed', reference: 'order-2004' });
  const declined = await get(decline.id);
  expect(declined).toMatchObject({ state: 'failed', result: { charge_id: null, error_code: expect.any(String), twilio_error_code: expect.any(String), transaction_id: expect.any(String) } });
  expect(declined.result.error_code).not.toBe('payment-connector-error');
  const [record] = await journalRecords(declined.result.transaction_id);
  expect(record).toMatchObject({ status: 'declined' });
});

test('when a bank account is saved without a charge and the session has no return_url, then the caller hears goodbye and the call ends', async () => {
  const callSid = await newCall();
  const created = await createIvr({ call_sid: callSid, payment_method: 'ach', return_url: undefined });
  await redirectCall(callSid, created.twiml_url!);
  await whenPaying(callSid);
  await press(callSid, '121000358#');
  await press(callSid, '123456789012#');
  await eventually(async () => (await get(created.id)).state === 'succeeded', 'the saved account');
  expect((await get(created.id)).result).toMatchObject({ token_id: expect.any(String) });
  await eventually(async () => (await callEvents(callSid)).some((event) => event.type === 'hangup'), 'the call to end');
  const said = (await callEvents(callSid)).filter((event) => event.type === 'say').map((event) => event.text);
  expect(said).toContain('Thank you. Your payment was successful. Goodbye.');
});

test('when requests to the twiml_url or the action are unsigned or signed wrongly, then they are refused and change nothing', async () => {
  const callSid = await newCall();
  const created = await createIvr({ call_sid: callSid, amount: '10.00' });
  const url = created.twiml_url!;
  expect((await request(url).post('').type('form').send({ CallSid: callSid })).status).toBe(400);
  const forged = twilio.getExpectedTwilioSignature('another-auth-token', url, { CallSid: callSid });
  expect((await request(url).post('').set('X-Twilio-Signature', forged).type('form').send({ CallSid: callSid })).status).toBe(403);
  // Signed for other parameters than those sent.
  const other = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, { CallSid: 'CA00000000000000000000000000000000' });
  expect((await request(url).post('').set('X-Twilio-Signature', other).type('form').send({ CallSid: callSid })).status).toBe(403);
  const action = `${stack.service.url}/twilio/ivr/sessions/${created.id}/result`;
  expect((await request(action).post('').type('form').send({ Result: 'success', PaymentConfirmationCode: '999' })).status).toBe(400);
  const forgedAction = twilio.getExpectedTwilioSignature('another-auth-token', action, { Result: 'success' });
  expect((await request(action).post('').set('X-Twilio-Signature', forgedAction).type('form').send({ Result: 'success' })).status).toBe(403);
  expect(await get(created.id)).toMatchObject({ state: 'created', result: null });
  // The link still works for Twilio: nothing was used up.
  await redirectCall(callSid, url);
  await whenPaying(callSid);
  expect(await get(created.id)).toMatchObject({ state: 'capturing' });
  // An unknown link: 404 (Twilio tells the caller of an application error).
  expect((await signedPost(`${stack.service.url}/twilio/ivr/${'A'.repeat(43)}`, { CallSid: callSid })).status).toBe(404);
});

test('when the session is for another call, then that call is sent back without a <Pay>, and the link stays for its own call', async () => {
  const own = await newCall();
  const other = await newCall();
  const created = await createIvr({ call_sid: own, amount: '10.00' });
  const answer = await signedPost(created.twiml_url!, { CallSid: other });
  expect(answer.text).not.toContain('<Pay');
  expect(answer.text).toContain('state=created');
  await redirectCall(own, created.twiml_url!);
  await whenPaying(own);
});

test('when a session is created without a call, then the call that fetches its TwiML becomes its call', async () => {
  const callSid = await newCall();
  const created = await createIvr({ amount: '10.00' });
  expect(created.call_sid).toBeNull();
  await redirectCall(callSid, created.twiml_url!);
  await whenPaying(callSid);
  expect(await get(created.id)).toMatchObject({ state: 'capturing', call_sid: callSid });
});

test('when an IVR session is asked for what only an agent does, or is malformed, then the answers are clear', async () => {
  const created = await createIvr({ amount: '10.00' });
  const act = (action: string, body: object = {}) => stack.api(token).post(`/v1/sessions/${created.id}/${action}`).set('Authorization', `Bearer ${token}`).send(body);
  expect((await act('capture', { field: 'card_number' })).body.error.code).toBe('NOT_AN_AGENT_SESSION');
  expect((await act('complete')).body.error.code).toBe('NOT_AN_AGENT_SESSION');
  const post = (body: object) => stack.api(token).post('/v1/sessions').set('Authorization', `Bearer ${token}`).send(body);
  const insecure = await post({ type: 'ivr', return_url: 'http://ivr.example.com/back' });
  expect({ status: insecure.status, code: insecure.body.error.code }).toEqual({ status: 422, code: 'VALIDATION_FAILED' });
  expect(insecure.body.error.message).toContain('return_url must be https');
  const attempts = await post({ type: 'ivr', max_attempts: 4, language: 'xx-XX' });
  expect(attempts.status).toBe(422);
  expect(attempts.body.error.message).toContain('max_attempts must be 1, 2 or 3');
  expect(attempts.body.error.message).toContain('language must be one of');
  const type = await post({ type: 'kiosk' });
  expect(type.body.error.message).toContain('type must be one of agent, ivr');
  // Agent-only options are not IVR ones.
  expect((await post({ type: 'ivr', confirmation: true })).status).toBe(422);

  // A session cancelled before the call came: the call goes straight back.
  expect((await act('cancel')).body.state).toBe('cancelled');
  const callSid = await newCall();
  const answer = await signedPost(created.twiml_url!, { CallSid: callSid });
  expect(answer.text).toContain('state=cancelled');
});

test('when the twiml_url is re-issued, then the earlier one stops working; and once the TwiML is fetched, no link is issued again', async () => {
  const created = await createIvr({ amount: '10.00' });
  const reissue = () => stack.api(token).post(`/v1/sessions/${created.id}/twiml-link`).set('Authorization', `Bearer ${token}`);
  const fresh = await reissue();
  expect(fresh.status).toBe(201);
  expect(fresh.body).toEqual({ twiml_url: expect.stringMatching(/\/twilio\/ivr\/[A-Za-z0-9_-]{43}$/), expires_at: expect.any(String) });
  const callSid = await newCall();
  expect((await signedPost(created.twiml_url!, { CallSid: callSid })).status).toBe(404);
  // Another client cannot re-issue it.
  const reader = await stack.token('reader', 'sessions:read');
  expect((await stack.api(reader).post(`/v1/sessions/${created.id}/twiml-link`).set('Authorization', `Bearer ${reader}`)).status).toBe(403);
  await redirectCall(callSid, fresh.body.twiml_url);
  await whenPaying(callSid);
  const late = await reissue();
  expect({ status: late.status, code: late.body.error.code }).toEqual({ status: 409, code: 'CALLER_IS_PAYING' });
});

test('when the same create is repeated with its Idempotency-Key, then it is the same session, with a new link in place of the lost one', async () => {
  const body = { type: 'ivr', amount: '10.00', return_url: `${ivr.url}/return`, reference: 'order-2010' };
  const post = () => stack.api(token).post('/v1/sessions').set('Authorization', `Bearer ${token}`).set('Idempotency-Key', 'ivr-order-2010').send(body);
  const first = await post();
  const second = await post();
  expect(second.body.id).toBe(first.body.id);
  expect(second.body.twiml_url).not.toBe(first.body.twiml_url);
  const callSid = await newCall();
  expect((await signedPost(first.body.twiml_url, { CallSid: callSid })).status).toBe(404);
  await redirectCall(callSid, second.body.twiml_url);
  await whenPaying(callSid);
});

test("when a prompts file is configured, then the caller hears its prompts in the session's language, the brand's own security-code prompt, and asked twice where the session says", async () => {
  const callSid = await newCall();
  const created = await createIvr({ call_sid: callSid, amount: '10.00', require_matching_inputs: ['card_number'] });
  await redirectCall(callSid, created.twiml_url!);
  await whenPaying(callSid);
  for (const digits of ['378282246310005#', '378282246310005#', '1230#', '1234#', '94111#']) await press(callSid, digits);
  expect((await returned(created.id)).get('state')).toBe('succeeded');
  const said = (await callEvents(callSid)).filter((event) => event.type === 'say').map((event) => event.text);
  expect(said).toEqual(
    expect.arrayContaining([
      'Please enter your card number once more to confirm it.',
      'Please enter the four digit security code on the front of your card.',
      'Thank you. Please hold while we process your payment.',
    ]),
  );

  const spanishCall = await newCall();
  const spanish = await createIvr({ call_sid: spanishCall, amount: '10.00', language: 'es-US' });
  const twiml = await signedPost(spanish.twiml_url!, { CallSid: spanishCall });
  expect(twiml.text).toContain('language="es-US"');
  expect(twiml.text).toContain('Por favor, introduzca el número de su tarjeta');
});

test('when the prompts file is invalid, then the service does not start, and says where', async () => {
  const bad = path.join(temporaryDataDir(), 'prompts.yaml');
  fs.writeFileSync(bad, 'languages:\n  en-US:\n    prompts:\n      card_numbr: []\n');
  await expect(startSessionStack({ IVR_PROMPTS_FILE: bad })).rejects.toThrow(/prompts\.yaml:4:7: at languages\.en-US\.prompts: unknown key "card_numbr"/);
});

import { AgentSessions } from '../../src/sessions/agent-sessions';
import { SessionEvents } from '../../src/sessions/session-events';
import type { CreateDigitalSessionBody, CreateIvrSessionBody } from '../../src/sessions/session-schemas';
import { SessionSweeper } from '../../src/sessions/session-sweeper';
import { openStore, type Store } from '../../src/store/open-journal';
import { SessionStore } from '../../src/store/session-store';
import { capturingLogger } from '../helpers/api-clients';
import { temporaryDataDir } from '../helpers/service';

/**
 * The sweeper on a real database with a clock of the test's: an IVR session's <Pay> cannot be
 * cancelled, and may have charged though its action never arrived, so when its time is up it
 * settles from the journal, and only a session that paid nothing ends `expired`.
 */
let store: Store;
let clock: number;
let sessions: AgentSessions;
let sweeper: SessionSweeper;
let sessionStore: SessionStore;
beforeEach(async () => {
  store = await openStore({ dataDir: temporaryDataDir() });
  clock = Date.parse('2026-11-30T12:00:00Z');
  sessionStore = new SessionStore(store.sql);
  const { logger } = capturingLogger();
  const unreachable = () => Promise.reject(new Error('an IVR session never calls Twilio'));
  sessions = new AgentSessions({
    store: sessionStore,
    twilio: { create: unreachable, update: unreachable },
    events: new SessionEvents(store.sql, sessionStore, () => undefined),
    webhooksFor: () => [],
    publicUrl: 'http://127.0.0.1:1',
    defaultConnector: 'Default',
    timeoutSeconds: 300,
    logger,
    now: () => new Date(clock),
  });
  sweeper = new SessionSweeper({ sessions, store: sessionStore, sql: store.sql, logger, settleAfterMs: 120_000, noPaymentAfterMs: 180_000, now: () => clock });
});
afterEach(async () => {
  await store.close();
});

const body: CreateIvrSessionBody = { type: 'ivr', amount: '10.00', currency: 'USD', payment_method: 'card', security_code: true, postal_code: true, max_attempts: 1 };

/** An IVR session whose TwiML Twilio fetched: its <Pay> may run 15 minutes. */
async function paying(): Promise<string> {
  const { record } = await sessions.open('crm', body, undefined, { timeoutSeconds: 600, ivr: { maxAttempts: 1 } });
  await sessions.change(record.resource.id, { kind: 'pay-started', callSid: 'CA00000000000000000000000000000001', expiresAt: new Date(clock + 900_000).toISOString() }, 'twilio');
  return record.resource.id;
}

async function journalRecord(sessionId: string, status: 'pending' | 'approved' | 'declined', answer?: object): Promise<void> {
  await store.sql.run({
    text: `INSERT INTO transactions (connector, account, transaction_id, method, tender, fingerprint, status, owner, answer_status, answer_body, created_at, updated_at, session_id)
           VALUES ('payconex', 'acct', $1, 'charge', 'card', 'f', $2, 'me', $3, $4, $5, $5, $6)`,
    params: [`${sessionId}-tx`, status, answer ? 200 : null, answer ? JSON.stringify(answer) : null, clock, sessionId],
  });
}

const state = async (id: string) => (await sessionStore.get(id))!.resource;

test('when an IVR session is never fetched in its time, then it expires', async () => {
  const { record } = await sessions.open('crm', body, undefined, { timeoutSeconds: 600, ivr: { maxAttempts: 1 } });
  clock += 599_000;
  await sweeper.sweep();
  expect((await state(record.resource.id)).state).toBe('created');
  clock += 2_000;
  await sweeper.sweep();
  expect((await state(record.resource.id)).state).toBe('expired');
});

test('when a <Pay> outlives its limit with nothing in the journal, then the session expires; not before', async () => {
  const id = await paying();
  clock += 600_000;
  await sweeper.sweep();
  expect((await state(id)).state).toBe('capturing');
  clock += 301_000;
  await sweeper.sweep();
  expect((await state(id)).state).toBe('expired');
});

test('when a <Pay> charged but its action never came, then the session settles succeeded from the journal, with the charge_id Twilio was answered', async () => {
  const id = await paying();
  await journalRecord(id, 'approved', { charge_id: '000000000777', error_code: null, error_message: null });
  clock += 901_000;
  await sweeper.sweep();
  expect(await state(id)).toMatchObject({ state: 'succeeded', result: { charge_id: '000000000777' } });
  expect((await sessionStore.history(id)).at(-1)).toMatchObject({ actor: 'service', action: 'settled-from-journal', detail: 'from the journal' });
});

test('when its payment is still pending in the journal, then the session waits; once declined, it fails', async () => {
  const id = await paying();
  await journalRecord(id, 'pending');
  clock += 901_000;
  await sweeper.sweep();
  expect((await state(id)).state).toBe('capturing');
  await store.sql.run({ text: `UPDATE transactions SET status = 'declined', error_code = '30002', answer_status = 200, answer_body = $1`, params: [JSON.stringify({ charge_id: null, error_code: '30002' })] });
  await sweeper.sweep();
  expect(await state(id)).toMatchObject({ state: 'failed', result: { charge_id: null, error_code: '30002' } });
});

describe('digital sessions', () => {
  const digitalBody: CreateDigitalSessionBody = { type: 'digital', amount: '10.00', currency: 'USD', payment_method: 'card', security_code: true, postal_code: true, expires_in: 3600, send_sms: false };
  async function open(): Promise<string> {
    const { record } = await sessions.open('crm', digitalBody, undefined, { timeoutSeconds: 3600, defaultConnector: 'payconex', digital: { state: { nextAttempt: 1 }, attemptsAllowed: 3 } });
    return record.resource.id;
  }

  test('when the payment page sends no heartbeat for 15 s, then the customer is no longer present, once', async () => {
    const id = await open();
    await sessions.change(id, { kind: 'customer-seen', until: clock + 15_000 }, 'customer');
    clock += 10_000;
    await sweeper.sweep();
    expect((await state(id)).customer_present).toBe(true);
    clock += 6_000;
    await sweeper.sweep();
    expect((await state(id)).customer_present).toBe(false);
    const version = (await sessionStore.get(id))!.version;
    await sweeper.sweep();
    expect((await sessionStore.get(id))!.version).toBe(version);
  });

  test('when a link is past its expiry, then the session ends expired; one processing an attempt waits for its result', async () => {
    const waiting = await open();
    const paying = await open();
    clock += 3_590_000;
    await sessions.change(paying, { kind: 'payment-submitted', attempt: 1 }, 'customer');
    clock += 11_000;
    await sweeper.sweep();
    expect((await state(waiting)).state).toBe('expired');
    expect((await state(paying)).state).toBe('processing');
    // Its payment never reached the journal (the replica stopped first): nothing was charged, and the link is over.
    clock += 200_000;
    await sweeper.sweep();
    expect((await state(paying)).result).toMatchObject({ error_code: 'NO_PAYMENT' });
    expect((await state(paying)).state).toBe('failed');
  });

  test('when an attempt never reached the journal and the link is still valid, then the customer may try again', async () => {
    const id = await open();
    await sessions.change(id, { kind: 'payment-submitted', attempt: 1 }, 'customer');
    clock += 200_000;
    await sweeper.sweep();
    expect(await state(id)).toMatchObject({ state: 'capturing', attempts: { made: 1, allowed: 3 }, result: { error_code: 'NO_PAYMENT' } });
  });
});

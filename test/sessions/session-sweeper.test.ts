import { AgentSessions } from '../../src/sessions/agent-sessions';
import { SessionEvents } from '../../src/sessions/session-events';
import type { CreateIvrSessionBody } from '../../src/sessions/session-schemas';
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

import type { SessionRecord } from '../../src/sessions/session';
import { openStore, type Store } from '../../src/store/open-journal';
import { SessionStore, type HistoryEntry } from '../../src/store/session-store';
import { TEST_DATABASE_URL, freshPostgresUrl } from '../helpers/postgres';
import { temporaryDataDir } from '../helpers/service';

/** The session store, written once in portable SQL, against both databases. */
const engines: Array<[string, () => Promise<{ databaseUrl?: string; dataDir: string }>]> = [['SQLite', async () => ({ dataDir: temporaryDataDir() })]];
if (TEST_DATABASE_URL) engines.push(['PostgreSQL', async () => ({ databaseUrl: await freshPostgresUrl(), dataDir: temporaryDataDir() })]);

let sequence = 0;
function record(overrides: Partial<SessionRecord> & { state?: SessionRecord['resource']['state']; callSid?: string; createdAt?: number } = {}): SessionRecord {
  const id = `ps_${String(++sequence).padStart(32, '0')}`;
  const at = new Date(overrides.createdAt ?? Date.now()).toISOString();
  return {
    clientId: 'crm',
    version: 1,
    internals: { twilio: { connector: 'Default', securityCode: true, postalCode: true, parameters: { session_id: id } } },
    ...overrides,
    resource: {
      id,
      type: 'agent',
      state: overrides.state ?? 'created',
      reference: 'order-7',
      amount: '10.00',
      currency: 'USD',
      payment_method: 'card',
      call_sid: overrides.callSid ?? `CA${String(sequence).padStart(32, '0')}`,
      connector: 'Default',
      description: null,
      customer: null,
      created_at: at,
      updated_at: at,
      expires_at: new Date(Date.parse(at) + 300_000).toISOString(),
      fields: {},
      required: [],
      result: null,
    },
  };
}
const line = (r: SessionRecord, action = 'created'): HistoryEntry => ({ version: r.version, at: r.resource.updated_at, actor: 'client:crm', action, state: r.resource.state });

describe.each(engines)('session store (%s)', (_name, settings) => {
  let store: Store;
  let sessions: SessionStore;
  beforeEach(async () => {
    store = await openStore(await settings());
    sessions = new SessionStore(store.sql);
  });
  afterEach(async () => {
    await store.close();
  });

  test('when a session is inserted, then it reads back as written, with its history', async () => {
    const first = record();
    expect(await sessions.insert(first, line(first))).toEqual({ inserted: true });
    expect(await sessions.get(first.resource.id)).toEqual({ ...first, idempotencyKey: undefined, requestHash: undefined });
    expect(await sessions.history(first.resource.id)).toEqual([{ version: 1, at: first.resource.updated_at, actor: 'client:crm', action: 'created', state: 'created' }]);
  });

  test('when the same Idempotency-Key comes again, then the first session is returned; a second active session on a call is refused', async () => {
    const first = record({ idempotencyKey: 'k1', requestHash: 'h1' });
    await sessions.insert(first, line(first));
    const again = record({ idempotencyKey: 'k1', requestHash: 'h2' });
    const outcome = await sessions.insert(again, line(again));
    expect(outcome).toMatchObject({ inserted: false, sameKey: { resource: { id: first.resource.id }, requestHash: 'h1' } });
    const sameCall = record({ callSid: first.resource.call_sid! });
    expect(await sessions.insert(sameCall, line(sameCall))).toEqual({ inserted: false, activeOnCall: true });
  });

  test('when the call\'s session has ended, then a new one may start on it', async () => {
    const ended = record({ state: 'succeeded' });
    await sessions.insert(ended, line(ended));
    const next = record({ callSid: ended.resource.call_sid! });
    expect(await sessions.insert(next, line(next))).toEqual({ inserted: true });
  });

  test('when two changes race from one version, then one is saved and the other is told to try again', async () => {
    const first = record();
    await sessions.insert(first, line(first));
    const a = { ...first, version: 2, resource: { ...first.resource, state: 'capturing' as const } };
    const b = { ...first, version: 2, resource: { ...first.resource, state: 'cancelled' as const } };
    expect(await sessions.save(first, a, line(a, 'a'))).toBe(true);
    expect(await sessions.save(first, b, line(b, 'b'))).toBe(false);
    expect((await sessions.get(first.resource.id))?.resource.state).toBe('capturing');
    expect((await sessions.history(first.resource.id)).map((entry) => entry.action)).toEqual(['created', 'a']);
  });

  test('when sessions are listed, then only the client\'s, newest first, filtered', async () => {
    const old = record({ createdAt: Date.now() - 60_000 });
    const recent = record();
    const other = { ...record(), clientId: 'someone-else' };
    for (const r of [old, recent, other]) await sessions.insert(r, line(r));
    expect((await sessions.list({ clientId: 'crm', limit: 10 })).map((s) => s.id)).toEqual([recent.resource.id, old.resource.id]);
    expect((await sessions.list({ clientId: 'crm', since: Date.now() - 30_000, limit: 10 })).map((s) => s.id)).toEqual([recent.resource.id]);
    expect(await sessions.list({ clientId: 'crm', state: 'succeeded', limit: 10 })).toEqual([]);
  });

  test('when sessions are old enough, then ended ones are pruned with their history and active ones stay', async () => {
    const endedOld = record({ state: 'failed', createdAt: 1000 });
    const activeOld = record({ createdAt: 1000 });
    for (const r of [endedOld, activeOld]) await sessions.insert(r, line(r));
    expect(await sessions.prune(5000)).toBe(1);
    expect(await sessions.get(endedOld.resource.id)).toBeUndefined();
    expect(await sessions.history(endedOld.resource.id)).toEqual([]);
    expect(await sessions.get(activeOld.resource.id)).toBeDefined();
  });
});

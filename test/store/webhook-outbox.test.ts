import type { Config } from '../../src/config/settings';
import { openStore, type Store } from '../../src/store/open-journal';
import { WebhookOutbox, outboxInsert } from '../../src/store/webhook-outbox';
import { TEST_DATABASE_URL, freshPostgresUrl } from '../helpers/postgres';
import { temporaryDataDir } from '../helpers/service';
import { sessionResource } from '../helpers/webhooks';

const engines: Array<[string, () => Promise<Pick<Config, 'databaseUrl' | 'dataDir'>>]> = [['SQLite', async () => ({ dataDir: temporaryDataDir(), databaseUrl: undefined })]];
if (TEST_DATABASE_URL) engines.push(['PostgreSQL', async () => ({ dataDir: temporaryDataDir(), databaseUrl: await freshPostgresUrl() })]);

describe.each(engines)('webhook outbox (%s)', (_engine, storeConfig) => {
  let store: Store;
  let outbox: WebhookOutbox;
  beforeEach(async () => {
    store = await openStore(await storeConfig());
    outbox = new WebhookOutbox(store.sql);
  });
  afterEach(async () => {
    await store.close();
  });

  const event = (sessionId: string, sequence: number) =>
    outboxInsert({ clientId: 'crm', sessionId, sequence, type: 'session.succeeded', data: sessionResource(sessionId, 'succeeded'), createdAt: Date.UTC(2026, 10, 1) });
  const sessionUpdate = (sessionId: string, version: number) => ({
    text: 'UPDATE sessions SET state = $1, version = version + 1 WHERE id = $2 AND version = $3',
    params: ['succeeded', sessionId, version],
  });

  test('when the session update in its batch loses its race, then the event is not enqueued either', async () => {
    await store.sql.run({
      text: `INSERT INTO sessions (id, client_id, type, state, version, resource, internal, expires_at, created_at, updated_at)
             VALUES ('ps_1', 'crm', 'agent', 'processing', 2, '{}', '{}', 0, 0, 0)`,
    });
    expect(await store.sql.batch([sessionUpdate('ps_1', 1), event('ps_1', 2)], { firstMustChange: true })).toBe(false);
    expect(await outbox.list()).toEqual([]);
    expect(await store.sql.batch([sessionUpdate('ps_1', 2), event('ps_1', 3)], { firstMustChange: true })).toBe(true);
    expect(await outbox.list()).toEqual([expect.objectContaining({ sessionId: 'ps_1', sequence: 3, status: 'pending', attempts: 0 })]);
  });

  test('when an event is enqueued, then its stored body is the JSON that will be POSTed, with an evt_ id', async () => {
    const insert = event('ps_1', 1);
    await store.sql.run(insert);
    const id = insert.params![0] as string;
    expect(id).toMatch(/^evt_[0-9a-f]{32}$/);
    const stored = await outbox.get(id);
    expect(JSON.parse(stored!.body)).toEqual({ id, type: 'session.succeeded', created_at: '2026-11-01T00:00:00.000Z', data: sessionResource('ps_1', 'succeeded') });
    expect(stored).toMatchObject({ createdAt: Date.UTC(2026, 10, 1), nextAttemptAt: Date.UTC(2026, 10, 1), attemptsSince: Date.UTC(2026, 10, 1) });
  });

  test('when two events claim the same place in a session, then the second is refused', async () => {
    await store.sql.run(event('ps_1', 1));
    // The driver's error, read by its message: better-sqlite3's error class may come from another test file's realm.
    const refusal = await store.sql.run(event('ps_1', 1)).then(
      () => 'inserted',
      (error: unknown) => (error as Error).message,
    );
    expect(refusal).toMatch(/UNIQUE constraint failed: webhook_outbox\.session_id, webhook_outbox\.sequence|"webhook_outbox_session_sequence"/);
  });

  test("when events are due, then only each session's first pending one is, and the next once it is given up", async () => {
    for (const [sessionId, sequence] of [['ps_a', 2], ['ps_a', 1], ['ps_b', 1]] as const) await store.sql.run(event(sessionId, sequence));
    const due = await outbox.due(Date.UTC(2026, 10, 1), 10);
    expect(due.map((row) => [row.sessionId, row.sequence]).sort()).toEqual([['ps_a', 1], ['ps_b', 1]]);
    expect(await outbox.due(Date.UTC(2026, 10, 1) - 1, 10)).toEqual([]);
    await outbox.giveUp(due.find((row) => row.sessionId === 'ps_a')!.id, 'HTTP 500', true);
    expect((await outbox.due(Date.UTC(2026, 10, 1), 10)).map((row) => [row.sessionId, row.sequence]).sort()).toEqual([['ps_a', 2], ['ps_b', 1]]);
    expect(await outbox.pendingCount()).toBe(2);
  });
});

import request from 'supertest';
import type { Config } from '../../src/config/settings';
import { createMetrics } from '../../src/observability/metrics';
import { WebhookDelivery } from '../../src/sessions/webhook-delivery';
import { openStore, type Store } from '../../src/store/open-journal';
import { WebhookOutbox } from '../../src/store/webhook-outbox';
import { TEST_DATABASE_URL, freshPostgresUrl } from '../helpers/postgres';
import { temporaryDataDir } from '../helpers/service';
import { MemoryApiClients, WebhookReceiver, enqueue, eventually, memoryLogger, sessionResource, startWebhookAdminServer } from '../helpers/webhooks';

const ADMIN_TOKEN = 'admin-token-for-webhooks-0123456789';
const T0 = Date.UTC(2026, 10, 1, 9, 0, 0);

const engines: Array<[string, () => Promise<Pick<Config, 'databaseUrl' | 'dataDir'>>]> = [['SQLite', async () => ({ dataDir: temporaryDataDir(), databaseUrl: undefined })]];
if (TEST_DATABASE_URL) engines.push(['PostgreSQL', async () => ({ dataDir: temporaryDataDir(), databaseUrl: await freshPostgresUrl() })]);

describe.each(engines)('webhook admin API (%s)', (_engine, storeConfig) => {
  let store: Store;
  let outbox: WebhookOutbox;
  let server: { url: string; close(): Promise<void> };
  let delivered: string, failed: string, pending: string;
  beforeAll(async () => {
    store = await openStore(await storeConfig());
    outbox = new WebhookOutbox(store.sql);
    [delivered] = await enqueue(store.sql, [{ sessionId: 'ps_1', sequence: 1 }], T0) as [string];
    [failed] = await enqueue(store.sql, [{ sessionId: 'ps_2', sequence: 1, type: 'session.failed' }], T0 + 1000) as [string];
    [pending] = await enqueue(store.sql, [{ sessionId: 'ps_3', sequence: 1, clientId: 'desk', type: 'session.capturing' }], T0 + 2000) as [string];
    await outbox.markDelivered(delivered, T0 + 500);
    await outbox.giveUp(failed, 'HTTP 500', true);
    await outbox.reschedule(pending, 'ECONNREFUSED', T0 + 12_000);
    server = await startWebhookAdminServer(outbox, ADMIN_TOKEN);
  });
  afterAll(async () => {
    await server.close();
    await store.close();
  });
  const admin = (path: string, token = ADMIN_TOKEN) => request(server.url).get(path).set('Authorization', `Bearer ${token}`);
  const retry = (id: string, token = ADMIN_TOKEN) => request(server.url).post(`/admin/webhooks/${id}/retry`).set('Authorization', `Bearer ${token}`);

  test('when events are listed, then each shows how its delivery went, newest first, without its body', async () => {
    const response = await admin('/admin/webhooks');
    expect(response.status).toBe(200);
    expect(response.body.events).toEqual([
      {
        id: pending,
        type: 'session.capturing',
        session_id: 'ps_3',
        client_id: 'desk',
        status: 'pending',
        attempts: 1,
        next_attempt_at: new Date(T0 + 12_000).toISOString(),
        last_error: 'ECONNREFUSED',
        created_at: new Date(T0 + 2000).toISOString(),
        delivered_at: null,
      },
      expect.objectContaining({ id: failed, status: 'failed', attempts: 1, last_error: 'HTTP 500', next_attempt_at: null, delivered_at: null }),
      expect.objectContaining({ id: delivered, status: 'delivered', attempts: 1, last_error: null, delivered_at: new Date(T0 + 500).toISOString() }),
    ]);
    expect(JSON.stringify(response.body)).not.toContain('"data"');
  });

  test.each([
    ['status=failed', () => [failed]],
    ['session_id=ps_1', () => [delivered]],
    ['client_id=desk', () => [pending]],
    ['client_id=crm&limit=1', () => [failed]],
    ['session_id=ps_404', () => []],
  ])('when filtered by %s, then only those events come back', async (query, expected) => {
    const response = await admin(`/admin/webhooks?${query}`);
    expect(response.body.events.map((event: { id: string }) => event.id)).toEqual(expected());
  });

  test.each([
    ['status=lost', 'status'],
    ['limit=0', 'limit'],
    ['limit=many', 'limit'],
    ['since=2026-11-01', 'unknown key "since"'],
  ])('when the query is %s, then 400 INVALID_QUERY names the problem', async (query, named) => {
    const response = await admin(`/admin/webhooks?${query}`);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error_code: 'INVALID_QUERY', error_message: expect.stringContaining(named) });
  });

  test('when the token is wrong or missing, then 401 with a Bearer challenge, and nothing is retried', async () => {
    for (const response of [await admin('/admin/webhooks', 'not-the-admin-token'), await request(server.url).get(`/admin/webhooks/${failed}`), await retry(failed, 'wrong')]) {
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="admin"/);
      expect(response.body).toEqual({ error_code: 'UNAUTHORIZED', error_message: 'A valid admin Bearer token is required' });
    }
    expect((await outbox.get(failed))?.status).toBe('failed');
  });

  test('when one event is asked for, then it comes with the body it is POSTed with; an unknown id is a 404', async () => {
    const response = await admin(`/admin/webhooks/${failed}`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: failed, status: 'failed' });
    expect(response.body.body).toEqual({ id: failed, type: 'session.failed', created_at: new Date(T0 + 1000).toISOString(), data: sessionResource('ps_2', 'failed') });
    const unknown = await admin('/admin/webhooks/evt_unknown');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error_code: 'NOT_FOUND', error_message: 'No webhook event with that id' });
  });

  test('when a delivered event or an unknown one is retried, then 409 or 404 and nothing changes', async () => {
    const again = await retry(delivered);
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ error_code: 'WEBHOOK_ALREADY_DELIVERED', error_message: 'This webhook event was already delivered' });
    expect(await outbox.get(delivered)).toMatchObject({ status: 'delivered', attempts: 1 });
    expect((await retry('evt_unknown')).status).toBe(404);
  });

  test('when a failed event is retried, then it is pending and due now, and the worker delivers it', async () => {
    const receiver = await new WebhookReceiver().start();
    const clients = new MemoryApiClients();
    clients.set('crm', receiver.url);
    // Polls once an hour: only the retry's notification can make this delivery happen in time.
    const worker = new WebhookDelivery({ sql: store.sql, clients, logger: memoryLogger().logger, metrics: createMetrics(), pollIntervalMs: 3_600_000, lockName: `admin-test-${Date.now()}` });
    try {
      await worker.start();
      const before = Date.now();
      const response = await retry(failed);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: failed, status: 'pending', attempts: 0, last_error: 'HTTP 500' });
      expect(Date.parse(response.body.next_attempt_at)).toBeGreaterThanOrEqual(before - 1000);
      await eventually(async () => (await outbox.get(failed))?.status === 'delivered', 'the retried event delivered');
      expect(receiver.ids()).toEqual([failed]);
    } finally {
      await worker.stop();
      await receiver.stop();
    }
  });
});

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../src/config/settings';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import { signWebhook, verifyWebhookSignature, webhookEventFor, WebhookDelivery, type WebhookDeliveryOptions } from '../../src/sessions/webhook-delivery';
import { openStore, type Store } from '../../src/store/open-journal';
import type { Sql } from '../../src/store/sql';
import { announceWebhooks, WebhookOutbox } from '../../src/store/webhook-outbox';
import { TEST_DATABASE_URL, describeWithPostgres, freshPostgresUrl } from '../helpers/postgres';
import { temporaryDataDir } from '../helpers/service';
import {
  ManualClock,
  MemoryApiClients,
  WEBHOOK_SECRET,
  WebhookReceiver,
  enqueue,
  eventually,
  memoryLogger,
  sessionResource,
} from '../helpers/webhooks';

type StoreConfig = Pick<Config, 'databaseUrl' | 'dataDir'>;
const engines: Array<[string, () => Promise<StoreConfig>]> = [['SQLite', async () => ({ dataDir: temporaryDataDir(), databaseUrl: undefined })]];
if (TEST_DATABASE_URL) engines.push(['PostgreSQL', async () => ({ dataDir: temporaryDataDir(), databaseUrl: await freshPostgresUrl() })]);

const SECOND = 1000;
const HOUR = 60 * 60 * SECOND;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens stores, receivers and workers, and closes whatever a test left open. */
class Harness {
  readonly clients = new MemoryApiClients();
  readonly log = memoryLogger();
  private readonly stores: Store[] = [];
  private readonly workers: WebhookDelivery[] = [];
  private readonly receivers: WebhookReceiver[] = [];
  // Advisory locks are per database, not per schema: other test files' workers must not take ours.
  readonly lockName = `webhooks-test-${randomBytes(4).toString('hex')}`;

  async store(config: StoreConfig): Promise<Store> {
    const store = await openStore(config);
    // A test may close it itself (a restart): closed once.
    let closing: Promise<void> | undefined;
    const closeOnce = () => (closing ??= store.close());
    this.stores.push({ ...store, close: closeOnce });
    return { ...store, close: closeOnce };
  }

  async receiver(): Promise<WebhookReceiver> {
    const receiver = await new WebhookReceiver().start();
    this.receivers.push(receiver);
    return receiver;
  }

  async worker(sql: Sql, options: Partial<WebhookDeliveryOptions> = {}): Promise<{ worker: WebhookDelivery; metrics: Metrics }> {
    const metrics = createMetrics();
    const worker = new WebhookDelivery({ sql, clients: this.clients, logger: this.log.logger, metrics, pollIntervalMs: 50, lockName: this.lockName, ...options });
    this.workers.push(worker);
    await worker.start();
    return { worker, metrics };
  }

  async close(): Promise<void> {
    for (const worker of this.workers) await worker.stop();
    for (const store of this.stores) await store.close();
    for (const receiver of this.receivers) await receiver.stop();
  }
}

async function failures(metrics: Metrics): Promise<Record<string, number>> {
  const { values } = await metrics.registry.getSingleMetric('paybridge_webhook_failures_total')!.get();
  return Object.fromEntries(values.map((value) => [String(value.labels.outcome), value.value]));
}

async function backlog(metrics: Metrics): Promise<number> {
  return (await metrics.registry.getSingleMetric('paybridge_webhook_backlog')!.get()).values[0]?.value ?? -1;
}

describe.each(engines)('webhook delivery (%s)', (_engine, storeConfig) => {
  let harness: Harness;
  let config: StoreConfig;
  let store: Store;
  let outbox: WebhookOutbox;
  let receiver: WebhookReceiver;
  beforeEach(async () => {
    harness = new Harness();
    config = await storeConfig();
    store = await harness.store(config);
    outbox = new WebhookOutbox(store.sql);
    receiver = await harness.receiver();
    harness.clients.set('crm', receiver.url);
  });
  afterEach(async () => {
    await harness.close();
  });
  const statusOf = async (id: string) => (await outbox.get(id))?.status;

  test('when a session ends, then its webhook arrives once, signed with the client secret, and a tampered body or an old signature does not verify', async () => {
    const [id] = await enqueue(store.sql, [{ sessionId: 'ps_1', sequence: 1, createdAt: Date.UTC(2026, 10, 1) }]);
    const { metrics } = await harness.worker(store.sql);
    await announceWebhooks(store.sql);
    await eventually(async () => (await statusOf(id!)) === 'delivered', 'the event delivered');

    const [hook] = receiver.received;
    expect(hook).toMatchObject({ method: 'POST', path: '/hooks', headers: expect.objectContaining({ 'content-type': 'application/json' }) });
    expect(JSON.parse(hook!.body)).toEqual({ id, type: 'session.succeeded', created_at: '2026-11-01T00:00:00.000Z', data: sessionResource('ps_1', 'succeeded') });
    const signature = hook!.headers['paybridge-signature'] as string;
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(hook!.body, signature, WEBHOOK_SECRET)).toBe(true);
    expect(verifyWebhookSignature(hook!.body.replace('12.34', '99.99'), signature, WEBHOOK_SECRET)).toBe(false);
    expect(verifyWebhookSignature(hook!.body, signature, 'whsec_another_client_secret_000000000')).toBe(false);
    expect(verifyWebhookSignature(hook!.body, signature, WEBHOOK_SECRET, 300, Date.now() + 301 * SECOND)).toBe(false);
    const timestamp = Number(/t=(\d+)/.exec(signature)![1]);
    expect(verifyWebhookSignature(hook!.body, signature.replace(`t=${timestamp}`, `t=${timestamp + 1}`), WEBHOOK_SECRET)).toBe(false);

    // A few more polls: still once.
    await sleep(300);
    expect(receiver.ids()).toEqual([id]);
    expect(await outbox.get(id!)).toMatchObject({ status: 'delivered', attempts: 1, lastError: null, deliveredAt: expect.any(Number) });
    await eventually(async () => (await backlog(metrics)) === 0, 'an empty backlog');
    // Neither the secret nor the signature is stored or logged.
    const rows = JSON.stringify(await store.sql.all({ text: 'SELECT * FROM webhook_outbox' }));
    const v1 = signature.split('v1=')[1]!;
    for (const text of [rows, harness.log.lines.join('\n')]) {
      expect(text).not.toContain(WEBHOOK_SECRET);
      expect(text).not.toContain(v1);
    }
    expect(harness.log.lines.join('\n')).toContain('webhook delivered');
  });

  test('when the receiver answers 500 then 200, then the event is sent again once its backoff has passed', async () => {
    const clock = new ManualClock();
    receiver.answer = (_request, index) => ({ status: index === 0 ? 500 : 200, body: 'a receiver page that is never read' });
    const [id] = await enqueue(store.sql, [{ sessionId: 'ps_1', sequence: 1 }], clock.time);
    const { metrics } = await harness.worker(store.sql, { now: clock.now });

    const failed = await eventually(async () => ((await outbox.get(id!))?.attempts === 1 ? outbox.get(id!) : undefined), 'the first attempt recorded');
    expect(failed).toMatchObject({ status: 'pending', lastError: 'HTTP 500', nextAttemptAt: clock.time + 10 * SECOND });
    expect(await backlog(metrics)).toBe(1);
    await sleep(300);
    expect(receiver.received).toHaveLength(1);

    clock.advance(10 * SECOND);
    await eventually(async () => (await statusOf(id!)) === 'delivered', 'the second attempt');
    expect(receiver.ids()).toEqual([id, id]);
    expect(receiver.received[1]!.body).toBe(receiver.received[0]!.body);
    expect(await outbox.get(id!)).toMatchObject({ attempts: 2, lastError: null });
    expect(await failures(metrics)).toEqual({ retry: 1 });
  });

  test("when a session's first event needs retries, then its later events wait for it while other sessions' go out", async () => {
    const clock = new ManualClock();
    const [first, second, third] = await enqueue(
      store.sql,
      [
        { sessionId: 'ps_a', sequence: 1, type: 'session.capturing' },
        { sessionId: 'ps_a', sequence: 2, type: 'session.processing' },
        { sessionId: 'ps_a', sequence: 3, type: 'session.succeeded' },
      ],
      clock.time,
    );
    const [other] = await enqueue(store.sql, [{ sessionId: 'ps_b', sequence: 1 }], clock.time);
    let receiverBroken = true;
    receiver.answer = (request) => ({ status: receiverBroken && request.body.includes(first!) ? 503 : 200 });
    await harness.worker(store.sql, { now: clock.now });

    await eventually(async () => (await statusOf(other!)) === 'delivered', "the other session's event");
    await eventually(async () => (await outbox.get(first!))?.lastError === 'HTTP 503', 'the first event failing');
    await sleep(300);
    expect(receiver.ids().sort()).toEqual([first, other].sort());

    receiverBroken = false;
    clock.advance(10 * SECOND);
    await eventually(async () => (await statusOf(third!)) === 'delivered', 'the last event');
    expect(receiver.ids().filter((id) => id !== other)).toEqual([first, first, second, third]);
  });

  test('when the receiver is down and the service restarts, then the new worker over the same database delivers the event', async () => {
    await receiver.stop();
    const [id] = await enqueue(store.sql, [{ sessionId: 'ps_1', sequence: 1 }]);
    const { worker } = await harness.worker(store.sql, { retryDelaysMs: [100] });
    await eventually(async () => (await outbox.get(id!))?.lastError === 'ECONNREFUSED', 'a refused attempt');
    await worker.stop();
    await store.close();

    await receiver.start();
    const restarted = await harness.store(config);
    await harness.worker(restarted.sql, { retryDelaysMs: [100] });
    await eventually(async () => (await new WebhookOutbox(restarted.sql).get(id!))?.status === 'delivered', 'delivery after the restart');
    expect(receiver.ids()).toEqual([id]);
  });

  test('when the outcome of a delivery cannot be recorded (as in a crash), then the event is sent again: at least once', async () => {
    let losing = true;
    const losesFirstOutcome: Sql = {
      ...store.sql,
      run: async (statement) => {
        if (losing && statement.text.includes("SET status = 'delivered'")) {
          losing = false;
          throw new Error('database connection lost to db.internal:5432');
        }
        return store.sql.run(statement);
      },
    };
    const [id] = await enqueue(store.sql, [{ sessionId: 'ps_1', sequence: 1 }]);
    await harness.worker(losesFirstOutcome);
    await eventually(async () => (await statusOf(id!)) === 'delivered', 'the event delivered');
    expect(receiver.ids()).toEqual([id, id]);
    const logs = harness.log.lines.join('\n');
    expect(logs).toContain('webhook outcome not recorded');
    expect(logs).not.toContain('db.internal');
  });

  test('when an event still fails 12 hours after it was created, then it is given up and counted', async () => {
    const clock = new ManualClock();
    const created = clock.time;
    receiver.answer = () => ({ status: 500 });
    const [id] = await enqueue(store.sql, [{ sessionId: 'ps_1', sequence: 1 }], created);
    const { metrics } = await harness.worker(store.sql, { now: clock.now });
    await eventually(async () => (await outbox.get(id!))?.attempts === 1, 'the first attempt');

    // The last retry is on the deadline itself, not one delay past it.
    clock.time = created + 12 * HOUR - SECOND;
    const second = await eventually(async () => ((await outbox.get(id!))?.attempts === 2 ? outbox.get(id!) : undefined), 'the second attempt');
    expect(second).toMatchObject({ status: 'pending', nextAttemptAt: created + 12 * HOUR });

    clock.time = created + 12 * HOUR;
    await eventually(async () => (await statusOf(id!)) === 'failed', 'the event given up');
    expect(await outbox.get(id!)).toMatchObject({ attempts: 3, lastError: 'HTTP 500' });
    expect(await failures(metrics)).toEqual({ retry: 2, given_up: 1 });
    await eventually(async () => (await backlog(metrics)) === 0, 'an empty backlog');
    clock.advance(HOUR);
    await sleep(300);
    expect(receiver.received).toHaveLength(3);
    expect(harness.log.lines.join('\n')).toContain('webhook given up');
  });

  test('when the client has no webhook URL any more, or is removed, then its events are given up with the reason and sent nowhere', async () => {
    harness.clients.set('no-url', undefined);
    const [noUrl] = await enqueue(store.sql, [{ sessionId: 'ps_1', sequence: 1, clientId: 'no-url' }]);
    const [removed] = await enqueue(store.sql, [{ sessionId: 'ps_2', sequence: 1, clientId: 'gone' }]);
    const { metrics } = await harness.worker(store.sql);
    await eventually(async () => (await statusOf(noUrl!)) === 'failed' && (await statusOf(removed!)) === 'failed', 'both given up');
    expect(await outbox.get(noUrl!)).toMatchObject({ lastError: 'the API client has no webhook URL', attempts: 0 });
    expect(await outbox.get(removed!)).toMatchObject({ lastError: 'the API client no longer exists', attempts: 0 });
    expect(receiver.received).toHaveLength(0);
    expect(await failures(metrics)).toEqual({ given_up: 2 });
  });

  test("when the client's webhook URL changes after the event was enqueued, then only the new URL receives it", async () => {
    const [id] = await enqueue(store.sql, [{ sessionId: 'ps_1', sequence: 1 }]);
    const moved = await harness.receiver();
    harness.clients.set('crm', moved.url);
    await harness.worker(store.sql);
    await eventually(async () => (await statusOf(id!)) === 'delivered', 'the event delivered');
    expect(moved.ids()).toEqual([id]);
    expect(receiver.received).toHaveLength(0);
  });

  test('when the receiver answers with a redirect, then it is not followed: the attempt failed and is retried later', async () => {
    const elsewhere = await harness.receiver();
    receiver.answer = () => ({ status: 307, headers: { Location: elsewhere.url } });
    const [id] = await enqueue(store.sql, [{ sessionId: 'ps_1', sequence: 1 }]);
    await harness.worker(store.sql);
    await eventually(async () => (await outbox.get(id!))?.lastError === 'HTTP 307', 'the redirect recorded as a failure');
    expect(await statusOf(id!)).toBe('pending');
    expect(receiver.received).toHaveLength(1);
    expect(elsewhere.received).toHaveLength(0);
  });

  test('when delivered events are older than the retention, then the worker prunes them and keeps failed ones', async () => {
    const clock = new ManualClock();
    const [old] = await enqueue(store.sql, [{ sessionId: 'ps_old', sequence: 1 }], clock.time);
    harness.clients.set('no-url', undefined);
    const [failed] = await enqueue(store.sql, [{ sessionId: 'ps_failed', sequence: 1, clientId: 'no-url' }], clock.time);
    const { worker } = await harness.worker(store.sql, { now: clock.now, retentionDays: 30 });
    await eventually(async () => (await statusOf(old!)) === 'delivered' && (await statusOf(failed!)) === 'failed', 'both settled');
    await worker.stop();

    clock.advance(31 * 24 * HOUR);
    const [recent] = await enqueue(store.sql, [{ sessionId: 'ps_recent', sequence: 1 }], clock.time);
    await harness.worker(store.sql, { now: clock.now, retentionDays: 30 });
    await eventually(async () => (await statusOf(recent!)) === 'delivered', 'the recent event delivered');
    await eventually(async () => (await outbox.get(old!)) === undefined, 'the old event pruned');
    expect(await statusOf(failed!)).toBe('failed');
  });
});

describeWithPostgres('webhook delivery with two replicas on PostgreSQL', () => {
  let harness: Harness;
  beforeEach(() => {
    harness = new Harness();
  });
  afterEach(async () => {
    await harness.close();
  });

  test('when two workers share the database, then each event is delivered once, and the other takes over when the first stops', async () => {
    const config = { dataDir: temporaryDataDir(), databaseUrl: await freshPostgresUrl() };
    const replicaA = await harness.store(config);
    const replicaB = await harness.store(config);
    const receiver = await harness.receiver();
    harness.clients.set('crm', receiver.url);
    const { worker: workerA } = await harness.worker(replicaA.sql);
    await harness.worker(replicaB.sql);

    const ids: string[] = [];
    for (let session = 0; session < 10; session += 1) {
      const replica = session % 2 === 0 ? replicaA : replicaB;
      ids.push(...(await enqueue(replica.sql, [1, 2, 3].map((sequence) => ({ sessionId: `ps_${session}`, sequence })))));
      await announceWebhooks(replica.sql);
    }
    const outbox = new WebhookOutbox(replicaB.sql);
    await eventually(async () => (await outbox.list({ status: 'delivered', limit: 1000 })).length === ids.length, 'every event delivered');
    await sleep(500);
    expect(receiver.ids().sort()).toEqual([...ids].sort());

    // The leader stops (its connection, and so its lock, goes with it): the other replica delivers.
    await workerA.stop();
    await replicaA.close();
    const [late] = await enqueue(replicaB.sql, [{ sessionId: 'ps_late', sequence: 1 }]);
    await eventually(async () => (await outbox.get(late!))?.status === 'delivered', 'the late event delivered by the other replica');
    expect(receiver.ids().filter((id) => id === late)).toEqual([late]);
  });
});

describe('webhook delivery transport', () => {
  test('when the receiver never answers, then the attempt ends at its deadline and is retried later', async () => {
    const harness = new Harness();
    try {
      const store = await harness.store({ dataDir: temporaryDataDir(), databaseUrl: undefined });
      const receiver = await harness.receiver();
      receiver.answer = () => ({ status: 200, hang: true });
      harness.clients.set('crm', receiver.url);
      const [id] = await enqueue(store.sql, [{ sessionId: 'ps_1', sequence: 1 }]);
      await harness.worker(store.sql, { timeoutMs: 300 });
      const outbox = new WebhookOutbox(store.sql);
      await eventually(async () => (await outbox.get(id!))?.attempts === 1, 'the attempt recorded');
      expect(await outbox.get(id!)).toMatchObject({ status: 'pending', lastError: 'no answer within 0.3 s' });
    } finally {
      await harness.close();
    }
  });

  test('when the receiver presents a certificate that is not trusted, then nothing is sent and the attempt fails with the TLS error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webhook-tls-'));
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const requests: string[] = [];
    const server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
      requests.push(req.url ?? '');
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const harness = new Harness();
    try {
      const store = await harness.store({ dataDir: temporaryDataDir(), databaseUrl: undefined });
      harness.clients.set('crm', `https://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`);
      const [id] = await enqueue(store.sql, [{ sessionId: 'ps_1', sequence: 1 }]);
      await harness.worker(store.sql);
      const outbox = new WebhookOutbox(store.sql);
      await eventually(async () => (await outbox.get(id!))?.attempts === 1, 'the attempt recorded');
      expect(await outbox.get(id!)).toMatchObject({ status: 'pending', lastError: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
      expect(requests).toEqual([]);
    } finally {
      await harness.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('webhook signatures', () => {
  const body = '{"id":"evt_1","type":"session.succeeded","created_at":"2026-11-01T00:00:00.000Z","data":{}}';
  const now = Date.UTC(2026, 10, 1);
  const t = now / 1000;

  test('when the header is signed with the secret at a time within the tolerance, then it verifies', () => {
    const header = signWebhook(body, WEBHOOK_SECRET, t);
    expect(header).toMatch(new RegExp(`^t=${t},v1=[0-9a-f]{64}$`));
    expect(verifyWebhookSignature(body, header, WEBHOOK_SECRET, 300, now + 300 * SECOND)).toBe(true);
    expect(verifyWebhookSignature(body, header, WEBHOOK_SECRET, 300, now - 300 * SECOND)).toBe(true);
    expect(verifyWebhookSignature(body, header, WEBHOOK_SECRET, 300, now + 301 * SECOND)).toBe(false);
  });

  test('when several v1 values are given (a secret being rotated), then one matching is enough', () => {
    const header = `${signWebhook(body, 'the-old-secret-0123456789', t)},v1=${signWebhook(body, WEBHOOK_SECRET, t).split('v1=')[1]}`;
    expect(verifyWebhookSignature(body, header, WEBHOOK_SECRET, 300, now)).toBe(true);
  });

  test.each([
    ['', 'empty'],
    ['v1=abc', 'no timestamp'],
    [`t=${t}`, 'no signature'],
    [`t=soon,v1=${'0'.repeat(64)}`, 'a timestamp that is not a number'],
    [`t=${t},v1=${'0'.repeat(64)}`, 'a wrong signature'],
    [`t=${t},v1=short`, 'a signature of another length'],
  ])('when the header is %j (%s), then it does not verify', (header) => {
    expect(verifyWebhookSignature(body, header, WEBHOOK_SECRET, 300, now)).toBe(false);
  });
});

describe('which state gives which event', () => {
  const clients = new MemoryApiClients();
  clients.set('progress', 'https://crm.example/hooks', WEBHOOK_SECRET, true);
  clients.set('finals', 'https://crm.example/hooks', WEBHOOK_SECRET, false);
  clients.set('no-url', undefined);

  test.each([
    ['succeeded', 'session.succeeded', 'session.succeeded'],
    ['failed', 'session.failed', 'session.failed'],
    ['cancelled', 'session.cancelled', 'session.cancelled'],
    ['expired', 'session.expired', 'session.expired'],
    ['capturing', 'session.capturing', undefined],
    ['processing', 'session.processing', undefined],
    ['created', undefined, undefined],
  ])('when a session becomes %s, then a client with progress events gets %s, one without gets %s', (state, withProgress, withoutProgress) => {
    expect(webhookEventFor(clients.get('progress'), state)).toBe(withProgress);
    expect(webhookEventFor(clients.get('finals'), state)).toBe(withoutProgress);
    expect(webhookEventFor(clients.get('no-url'), state)).toBeUndefined();
    expect(webhookEventFor(undefined, state)).toBeUndefined();
  });
});

import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { RecordingGateway } from '../helpers/recording-gateway';
import { startService, temporaryDataDir, type TestService } from '../helpers/service';
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process';
import { TEST_DATABASE_URL, freshPostgresUrl } from '../helpers/postgres';
import { basicAuth, cardCharge } from '../helpers/test-data';

/**
 * A repeated transaction_id returns the first outcome and never reaches the
 * gateway again: concurrently, across restarts, across replicas, after a crash.
 * Gateway calls are counted at a real local gateway server.
 */
const APPROVED = JSON.stringify({ transaction_id: '000000007001', transaction_approved: true, error: false, error_code: 0 });
const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

type StoreEnv = () => Promise<Record<string, string>>;
const stores: Array<[string, StoreEnv]> = [['SQLite', async () => ({ DATA_DIR: temporaryDataDir() })]];
if (TEST_DATABASE_URL) stores.push(['PostgreSQL', async () => ({ DATABASE_URL: await freshPostgresUrl() })]);

const gateway = new RecordingGateway();
beforeAll(async () => {
  await gateway.start();
});
afterAll(async () => {
  await gateway.stop();
});

const toGateway = () => ({ GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8` });
const pay = (url: string, body: Record<string, unknown>) => request(url).post('/').set('Authorization', basicAuth()).send(body);

describe.each(stores)('never charge twice (%s journal)', (_name, storeEnv) => {
  let service: TestService | undefined;
  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  test('when 50 identical requests arrive at once, then the gateway is called once and all 50 answers are identical', async () => {
    service = await startService({ ...(await storeEnv()), ...toGateway() });
    gateway.willAnswer({ body: APPROVED, delayMs: 300 });
    const before = gateway.requests.length;
    const body = cardCharge();
    const answers = await Promise.all(Array.from({ length: 50 }, () => pay(service!.url, body)));

    expect(gateway.requests.length - before).toBe(1);
    expect(new Set(answers.map((answer) => `${answer.status} ${answer.text}`))).toEqual(
      new Set(['200 {"charge_id":"000000007001","error_code":null,"error_message":null}']),
    );
    const arrivals = service.logs.entries().filter((entry) => entry.transaction_id === body.transaction_id).map((entry) => entry.arrival);
    expect(arrivals.filter((arrival) => arrival === 'first')).toHaveLength(1);
  });

  test('when the service restarts after a charge, then the same request gets the same charge_id without a gateway call', async () => {
    const env = { ...(await storeEnv()), ...toGateway() };
    gateway.willAnswer({ body: APPROVED });
    const body = cardCharge();
    service = await startService(env);
    const first = await pay(service.url, body);
    await service.stop();

    const before = gateway.requests.length;
    gateway.willAnswer({ body: JSON.stringify({ transaction_id: '000000009999', transaction_approved: true, error: false }) });
    service = await startService(env);
    const retry = await pay(service.url, body);
    expect(retry.text).toBe(first.text);
    expect(retry.body.charge_id).toBe('000000007001');
    expect(gateway.requests.length).toBe(before);
  });

  test('when a retry changes the amount, card or method, then TRANSACTION_ID_REUSED and no gateway call', async () => {
    service = await startService({ ...(await storeEnv()), ...toGateway() });
    gateway.willAnswer({ body: APPROVED });
    const body = cardCharge();
    await pay(service.url, body);
    const before = gateway.requests.length;
    const reused = {
      charge_id: null,
      error_code: 'TRANSACTION_ID_REUSED',
      error_message: 'This transaction_id was already used for a different payment; the gateway was not called',
    };
    for (const change of [{ amount: '11.00' }, { cardnumber: '5555555555554444' }, { currency_code: 'EUR' }]) {
      const response = await pay(service.url, { ...body, ...change });
      expect(response.body).toEqual(reused);
    }
    const asToken = await pay(service.url, { ...body, method: 'tokenize', amount: undefined });
    expect(asToken.body).toEqual({ ...reused, charge_id: undefined, token_id: null });
    expect(gateway.requests.length).toBe(before);
    // Fields outside the fingerprint (cvv, description) may differ on a retry: it is the same payment.
    expect((await pay(service.url, { ...body, cvv: '123', description: 'retry' })).body.charge_id).toBe('000000007001');
  });

  test('when the gateway times out, then the outcome is unknown, the retry gets the same answer and no second call', async () => {
    service = await startService({ ...(await storeEnv()), ...toGateway(), GATEWAY_TIMEOUT_MS: '300', ADMIN_TOKEN });
    gateway.willAnswer({ body: APPROVED, delayMs: 2_000 });
    const body = cardCharge();
    const before = gateway.requests.length;
    const first = await pay(service.url, body);
    expect(first.body).toMatchObject({ charge_id: null, error_code: 'GATEWAY_TIMEOUT' });
    const retry = await pay(service.url, body);
    expect(retry.text).toBe(first.text);
    expect(gateway.requests.length - before).toBe(1);

    const journal = await request(service.url).get(`/transactions/${body.transaction_id}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(journal.body.records).toEqual([expect.objectContaining({ status: 'unknown', error_code: 'GATEWAY_TIMEOUT' })]);
  });

  test('when the process is killed mid-call, then after a restart the record is unknown and a retry gets OUTCOME_UNKNOWN without a call', async () => {
    const env = { ...(await storeEnv()), ...toGateway(), ADMIN_TOKEN };
    gateway.willAnswer({ body: APPROVED, delayMs: 15_000 });
    const body = cardCharge();
    const before = gateway.requests.length;
    let running: ServiceProcess | undefined = await startServiceProcess(env);
    try {
      const inFlight = pay(running.url, body).catch(() => 'connection lost');
      await gateway.received(before + 1);
      running.child.kill('SIGKILL');
      await running.exited;
      expect(await inFlight).toBe('connection lost');

      running = await startServiceProcess(env);
      const retry = await pay(running.url, body);
      expect(retry.body).toEqual({
        charge_id: null,
        error_code: 'OUTCOME_UNKNOWN',
        error_message: 'The service stopped while the gateway call was in flight; reconcile this payment with the gateway',
      });
      expect(gateway.requests.length - before).toBe(1);

      const unknown = await request(running.url).get('/transactions?status=unknown').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
      expect(unknown.body.records).toEqual([expect.objectContaining({ transaction_id: body.transaction_id, status: 'unknown', last4: '1111' })]);
      const metrics = (await request(running.url).get('/metrics')).text;
      expect(metrics).toMatch(/^paybridge_orphaned_payments_total 1$/m);
    } finally {
      await running?.stop();
    }
  });
});

describe('never charge twice across replicas', () => {
  const describeIfPostgres = TEST_DATABASE_URL ? describe : describe.skip;
  describeIfPostgres('two service processes sharing PostgreSQL', () => {
    test('when 50 identical requests are spread over both, then the gateway is called once and all answers are identical', async () => {
      const env = { DATABASE_URL: await freshPostgresUrl(), ...toGateway() };
      const replicas = await Promise.all([startServiceProcess(env), startServiceProcess(env)]);
      try {
        gateway.willAnswer({ body: APPROVED, delayMs: 500 });
        const before = gateway.requests.length;
        const body = cardCharge();
        const answers = await Promise.all(Array.from({ length: 50 }, (_, index) => pay(replicas[index % 2]!.url, body)));
        expect(gateway.requests.length - before).toBe(1);
        expect(new Set(answers.map((answer) => answer.text))).toEqual(
          new Set(['{"charge_id":"000000007001","error_code":null,"error_message":null}']),
        );
      } finally {
        await Promise.all(replicas.map((replica) => replica.stop()));
      }
    });
  });
});

describe('a slow gateway and an impatient Twilio', () => {
  test('when the first client gives up at 10 s before the sandbox answers (amount 2.02, 12 s), then a retry receives the charge_id of the one gateway call', async () => {
    const service = await startService({ DATA_DIR: temporaryDataDir() });
    try {
      const body = cardCharge({ amount: '2.02' });
      const first = await pay(service.url, body)
        .timeout(10_000)
        .then(() => 'answered', () => 'gave up');
      expect(first).toBe('gave up');
      const retry = await pay(service.url, body);
      expect(retry.body).toEqual({ charge_id: '000000000001', error_code: null, error_message: null });
      // The sandbox numbers its transactions: the next one is 2 only if 2.02 reached it once.
      const next = await pay(service.url, cardCharge());
      expect(next.body.charge_id).toBe('000000000002');

      // The request whose client left is logged when its payment ends, with the real outcome.
      const lines = service.logs.entries().filter((entry) => entry.message === 'payment' && entry.transaction_id === body.transaction_id);
      expect(lines).toHaveLength(2);
      const abandoned = lines.find((line) => line.arrival === 'first');
      expect(abandoned).toMatchObject({ status: 200, outcome: 'approved', client_gone: true });
      expect(abandoned!.gateway_ms).toBeGreaterThanOrEqual(11_000);
      const retried = lines.find((line) => line.arrival === 'joined');
      expect(retried).toMatchObject({ status: 200 });
      expect(retried!.client_gone).toBeUndefined();
      const metrics = (await request(service.url).get('/metrics')).text;
      expect(metrics).toMatch(/paybridge_gateway_duration_seconds_bucket\{le="20",connector="payconex"\} 2\b/);
      expect(metrics).toMatch(/paybridge_gateway_duration_seconds_bucket\{le="10",connector="payconex"\} 1\b/);
    } finally {
      await service.stop();
    }
  }, 60_000);
});

describe('what the journal keeps', () => {
  test.each(stores)('when every flow has run on %s, then no stored value holds card, bank or key data', async (kind, storeEnv) => {
    const { runEveryFlow } = await import('../helpers/flows');
    const { expectNoSecrets } = await import('../helpers/leaks');
    const { dumpPostgres } = await import('../helpers/postgres');
    const env = await storeEnv();
    const service = await startService({ ...env, GATEWAY_TIMEOUT_MS: '300' });
    try {
      await runEveryFlow(service.url, []);
    } finally {
      await service.stop();
    }
    let stored: string;
    if (kind === 'SQLite') {
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(path.join(env.DATA_DIR!, 'journal.sqlite'), { readonly: true });
      const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all();
      stored = JSON.stringify(tables.map(({ name }) => db.prepare(`SELECT * FROM ${name}`).all()));
      db.close();
      // The files themselves, WAL included, byte for byte.
      for (const file of fs.readdirSync(env.DATA_DIR!)) stored += fs.readFileSync(path.join(env.DATA_DIR!, file)).toString('latin1');
    } else {
      stored = await dumpPostgres(env.DATABASE_URL!);
    }
    expect(stored).toContain('"last4"');
    expectNoSecrets(stored);
  });
});

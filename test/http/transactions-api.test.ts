import request from 'supertest';
import { TEST_DATABASE_URL, freshPostgresUrl } from '../helpers/postgres';
import { startService, temporaryDataDir, type TestService } from '../helpers/service';
import { basicAuth, cardCharge } from '../helpers/test-data';

const ADMIN_TOKEN = 'reconcile-me-please-0123456789';

describe('reconciliation API', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startService({ ADMIN_TOKEN });
  });
  afterAll(async () => {
    await service.stop();
  });
  const admin = (path: string, token = ADMIN_TOKEN) => request(service.url).get(path).set('Authorization', `Bearer ${token}`);

  test('when a payment was taken, then GET /transactions/{id} returns its record without card data', async () => {
    const body = cardCharge({ amount: '12.34' });
    const paid = await request(service.url).post('/').set('Authorization', basicAuth()).send(body);
    const response = await admin(`/transactions/${body.transaction_id}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      records: [
        {
          transaction_id: body.transaction_id,
          connector: 'payconex',
          account: '123456789012',
          status: 'approved',
          method: 'charge',
          tender: 'card',
          amount: '12.34',
          currency: 'USD',
          card_brand: 'visa',
          last4: '1111',
          gateway_transaction_id: paid.body.charge_id,
          error_code: null,
          error_message: null,
          gateway_ms: expect.any(Number),
          created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        },
      ],
    });
  });

  test('when records are filtered by status and since, then only matching ones come back', async () => {
    const declined = cardCharge({ amount: '1.01' });
    await request(service.url).post('/').set('Authorization', basicAuth()).send(declined);
    const response = await admin(`/transactions?status=declined&since=${new Date(Date.now() - 60_000).toISOString()}`);
    expect(response.body.records.map((r: { transaction_id: string }) => r.transaction_id)).toEqual([declined.transaction_id]);
    expect(response.body.records[0]).toMatchObject({ status: 'declined', error_code: '30002', error_message: 'DECLINED' });
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect((await admin(`/transactions?since=${tomorrow}`)).body).toEqual({ records: [] });
  });

  test('when the token is wrong or missing, then 401 with a Bearer challenge', async () => {
    const wrong = await admin('/transactions', 'not-the-token');
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(wrong.body).toEqual({ error_code: 'UNAUTHORIZED', error_message: 'A valid admin Bearer token is required' });
    expect((await request(service.url).get('/transactions')).status).toBe(401);
  });

  test('when the query is invalid, then 400 INVALID_QUERY names the parameter', async () => {
    const response = await admin('/transactions?status=lost');
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error_code: 'INVALID_QUERY', error_message: expect.stringContaining('status') });
    expect((await admin('/transactions?since=yesterday')).body.error_code).toBe('INVALID_QUERY');
  });

  test('when no record has the transaction_id, then 404', async () => {
    const response = await admin('/transactions/never-seen');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error_code: 'NOT_FOUND', error_message: 'No journal record with that transaction_id' });
  });
});

type StoreEnv = () => Promise<Record<string, string>>;
const stores: Array<[string, StoreEnv]> = [['SQLite', async () => ({ DATA_DIR: temporaryDataDir() })]];
if (TEST_DATABASE_URL) stores.push(['PostgreSQL', async () => ({ DATABASE_URL: await freshPostgresUrl() })]);

// Each passes ajv's date or date-time format, yet Date.parse cannot read it: a leap second, an offset of hours only.
const UNREADABLE_INSTANTS = ['2026-12-31T23:59:60Z', '2026-06-30T23:59:60.5Z', '2027-01-01T00:59:60+01:00', '2026-11-01T10:00:00+01', '2026-11-01T10:00:00-05'];
// Dates that do not exist, refused by the format itself.
const IMPOSSIBLE_DATES = ['2026-02-30', '2026-02-29', '2026-02-31T10:00:00Z', '2026-13-01', '2026-00-10', '2026-11-01T25:00:00Z', '2026-11-01T24:00:00Z', '275760-09-13', '+275760-09-13'];

describe.each(stores)('reconciliation API date filters (%s journal)', (_name, storeEnv) => {
  let service: TestService;
  let paid: Record<string, unknown>;
  beforeAll(async () => {
    service = await startService({ ...(await storeEnv()), ADMIN_TOKEN });
    paid = cardCharge();
    await request(service.url).post('/').set('Authorization', basicAuth()).send(paid);
  });
  afterAll(async () => {
    await service.stop();
  });
  const list = (query: string) => request(service.url).get(`/transactions?${query}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`);

  test.each([...UNREADABLE_INSTANTS, ...IMPOSSIBLE_DATES].flatMap((value) => [['since', value], ['until', value]]))(
    'when %s is %s, then 400 INVALID_QUERY names it, not an empty list or a 500',
    async (name, value) => {
      const response = await list(`${name}=${encodeURIComponent(value)}`);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error_code: 'INVALID_QUERY', error_message: expect.stringMatching(new RegExp(`^Invalid query: ${name}: `)) });
    },
  );

  test('when the dates are the earliest and latest the format allows, or a leap day, or an offset, then records are found', async () => {
    const ids = async (query: string) => ((await list(query)).body.records as Array<{ transaction_id: string }>).map((record) => record.transaction_id);
    expect(await ids('since=0000-01-01&until=9999-12-31T23:59:59Z')).toEqual([paid.transaction_id]);
    expect(await ids(`since=2024-02-29&until=${encodeURIComponent('9999-12-31T23:59:59+23:59')}`)).toEqual([paid.transaction_id]);
    expect(await ids('until=0000-01-01')).toEqual([]);
  });
});

test('when ADMIN_TOKEN is not set, then the reconciliation API does not exist', async () => {
  const service = await startService();
  try {
    const response = await request(service.url).get('/transactions').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(response.status).toBe(404);
    expect(response.body.error_code).toBe('NOT_FOUND');
  } finally {
    await service.stop();
  }
});

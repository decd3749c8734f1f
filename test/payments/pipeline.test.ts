import path from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { loadConfig } from '../../src/config/settings';
import { protectSensitiveFields } from '../../src/contract/sensitive-fields';
import { createLogger } from '../../src/logging/logger';
import { gatewayAccount } from '../../src/payments/gateway-account';
import { takePayment, type PaymentInput, type PaymentOutcome } from '../../src/payments/take-payment';
import { secret } from '../../src/redaction/secret';
import { presentRecord } from '../../src/store/journal-query';
import { composeService, type ServiceParts } from '../../src/service-parts';
import { RecordingGateway } from '../helpers/recording-gateway';
import { CREDENTIAL_HASH_KEY, REPO_ROOT, startService, temporaryDataDir } from '../helpers/service';
import { ACCESS_KEY, ACCOUNT_ID, basicAuth, cardCharge } from '../helpers/test-data';

/**
 * The payment pipeline is channel-neutral: a caller with no Express at all (as the session channels
 * will be) hands it a payment and gets a typed outcome, with the same journal record, the same
 * answer and the same never-twice guarantee as Twilio's connector request over HTTP.
 */
const APPROVED = JSON.stringify({ transaction_id: '000000008001', transaction_approved: true, error: false, error_code: 0 });

const gateway = new RecordingGateway();
let parts: ServiceParts;
beforeAll(async () => {
  await gateway.start();
  const config = loadConfig({
    DATA_DIR: temporaryDataDir(),
    MAPPINGS_DIR: path.join(REPO_ROOT, 'mappings'),
    GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8`,
    CREDENTIAL_HASH_KEY,
  });
  parts = await composeService(config, createLogger('error'));
});
afterAll(async () => {
  await parts.teardown();
  await gateway.stop();
});

/** A payment as a channel hands it to the pipeline: the body's sensitive fields already Secrets. */
function payment(body: Record<string, unknown>): PaymentInput {
  const connector = parts.catalog.get('payconex');
  const credentials = { username: ACCOUNT_ID, password: secret.hidden(ACCESS_KEY) };
  return {
    connector,
    credentials,
    account: gatewayAccount(connector.name, connector.mapping.credentials.account, credentials, parts.credentialHash),
    body: protectSensitiveFields({ ...body }),
    requestId: 'pipeline-test',
  };
}

/** A journal record as the reconciliation API shows it, without what differs by when and where it ran. */
async function recordOf(journal: ServiceParts['journal'], transactionId: string) {
  const [record] = await journal.find({ transactionId });
  const { created_at: _created, updated_at: _updated, gateway_ms: _ms, ...rest } = presentRecord(record!);
  return rest;
}

test('when a payment is taken with no Express, then its outcome, answer and journal record are those of the same payment over HTTP', async () => {
  gateway.willAnswer({ body: APPROVED });
  const body = cardCharge();
  const outcome = await takePayment(parts.payments, payment(body));
  expect(outcome).toEqual<PaymentOutcome>({
    answer: { httpStatus: 200, body: '{"charge_id":"000000008001","error_code":null,"error_message":null}' },
    outcome: 'approved',
    errorCode: undefined,
    arrival: 'first',
    journalStatus: 'approved',
    gatewayMs: expect.any(Number),
    method: 'charge',
    tender: 'card',
    transactionId: body.transaction_id as string,
    cardBrand: 'visa',
    last4: '1111',
    amount: '10.00',
    currency: 'USD',
  });

  const dataDir = temporaryDataDir();
  const service = await startService({ DATA_DIR: dataDir, GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8` });
  try {
    const overHttp = await request(service.url).post('/').set('Authorization', basicAuth()).send(body);
    expect(overHttp.status).toBe(outcome.answer.httpStatus);
    expect(overHttp.text).toBe(outcome.answer.body);
  } finally {
    await service.stop();
  }
  const httpJournal = new Database(path.join(dataDir, 'journal.sqlite'), { readonly: true });
  const row = httpJournal.prepare<[string], Record<string, unknown>>('SELECT * FROM transactions WHERE transaction_id = ?').get(body.transaction_id as string)!;
  httpJournal.close();
  const ours = await recordOf(parts.journal, body.transaction_id as string);
  expect(ours).toMatchObject({ status: row.status, account: row.account, last4: row.last4, card_brand: row.card_brand, amount: row.amount });
  expect(ours.gateway_transaction_id).toBe(row.gateway_transaction_id);
});

test('when the same payment is handed over many times, some at once, then the gateway is called once and every caller gets the first answer', async () => {
  gateway.willAnswer({ body: APPROVED, delayMs: 200 });
  const before = gateway.requests.length;
  const body = cardCharge();
  const together = await Promise.all(Array.from({ length: 5 }, () => takePayment(parts.payments, payment(body))));
  const later = await takePayment(parts.payments, payment(body));
  expect(gateway.requests.length - before).toBe(1);
  const outcomes = [...together, later];
  expect(new Set(outcomes.map((outcome) => outcome.answer.body))).toEqual(new Set(['{"charge_id":"000000008001","error_code":null,"error_message":null}']));
  expect(outcomes.map((outcome) => outcome.arrival).sort()).toEqual(['first', 'joined', 'joined', 'joined', 'joined', 'replayed']);
  // Every duplicate knows how the payment ended, not only the first.
  expect(new Set(outcomes.map((outcome) => outcome.outcome))).toEqual(new Set(['approved']));
  expect(outcomes.filter((outcome) => outcome.gatewayMs !== undefined)).toHaveLength(1);
});

test('when the request is not a valid payment, then the outcome carries the contract answer, not an exception', async () => {
  const outcome = await takePayment(parts.payments, payment({ ...cardCharge(), cardnumber: '1234' }));
  expect(outcome).toMatchObject({ outcome: 'error', errorCode: 'INVALID_REQUEST', answer: { httpStatus: 200 } });
  expect(JSON.parse(outcome.answer.body)).toEqual({ charge_id: null, error_code: 'INVALID_REQUEST', error_message: 'Invalid request: cardnumber must be 12 to 19 digits' });
  expect(outcome.arrival).toBeUndefined();
});

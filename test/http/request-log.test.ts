import request from 'supertest';
import { openSqliteJournal } from '../../src/store/sqlite-journal';
import { claimFor } from '../helpers/journal-data';
import { RecordingGateway } from '../helpers/recording-gateway';
import { startService, temporaryDataDir } from '../helpers/service';
import { basicAuth, cardCharge } from '../helpers/test-data';

/** The request's log line tells what became of the payment, for duplicates as for the first. */
const gateway = new RecordingGateway();
beforeAll(async () => {
  await gateway.start();
});
afterAll(async () => {
  await gateway.stop();
});

const lineOf = (lines: Array<Record<string, unknown>>, requestId: string | undefined) => lines.find((line) => line.message === 'payment' && line.request_id === requestId);

test('when a payment whose gateway timed out is retried, then the retry logs arrival "replayed" with the outcome and error code it was answered', async () => {
  const service = await startService({ GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8`, GATEWAY_TIMEOUT_MS: '300' });
  try {
    gateway.willAnswer({ body: '{}', delayMs: 1_500 });
    const body = cardCharge();
    const first = await request(service.url).post('/').set('Authorization', basicAuth()).send(body);
    const retry = await request(service.url).post('/').set('Authorization', basicAuth()).send(body);
    expect(retry.text).toBe(first.text);
    expect(first.body.error_code).toBe('GATEWAY_TIMEOUT');
    const lines = service.logs.entries();
    expect(lineOf(lines, first.headers['x-request-id'])).toMatchObject({ arrival: 'first', outcome: 'error', error_code: 'GATEWAY_TIMEOUT' });
    const replayed = lineOf(lines, retry.headers['x-request-id']);
    expect(replayed).toMatchObject({ message: 'payment', arrival: 'replayed', outcome: 'error', error_code: 'GATEWAY_TIMEOUT', transaction_id: body.transaction_id });
    expect(replayed).not.toHaveProperty('gateway_ms');
  } finally {
    await service.stop();
  }
});

test('when a duplicate joins a running payment, then its line carries the approval too', async () => {
  const service = await startService({ GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8` });
  try {
    gateway.willAnswer({ body: JSON.stringify({ transaction_id: '000000009101', transaction_approved: true, error: false }), delayMs: 300 });
    const body = cardCharge();
    const answers = await Promise.all([1, 2].map(() => request(service.url).post('/').set('Authorization', basicAuth()).send(body)));
    const lines = answers.map((answer) => lineOf(service.logs.entries(), answer.headers['x-request-id']));
    expect(lines.map((line) => line?.arrival).sort()).toEqual(['first', 'joined']);
    for (const line of lines) expect(line).toMatchObject({ outcome: 'approved', last4: '1111' });
  } finally {
    await service.stop();
  }
});

test("when the periodic sweep finds another instance's payment stranded, then it logs that payment (connector, transaction_id, owner) for reconciliation", async () => {
  const dataDir = temporaryDataDir();
  const service = await startService({ DATA_DIR: dataDir });
  const other = openSqliteJournal(dataDir);
  try {
    const longAgo = Date.now() - 60_000;
    await other.registerInstance({ id: 'crashed-instance', host: 'elsewhere', pid: 1, startedAt: longAgo, heartbeatAt: longAgo });
    await other.claim(claimFor('stranded-1', { owner: 'crashed-instance' }), longAgo);
    // The sweep runs with every heartbeat (5 s).
    const deadline = Date.now() + 20_000;
    const stranded = () => service.logs.entries().find((line) => line.transaction_id === 'stranded-1');
    while (!stranded() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stranded()).toMatchObject({
      level: 'warn',
      message: 'payment left in flight by a stopped instance is now unknown: reconcile it',
      connector: 'payconex',
      owner: 'crashed-instance',
    });
    expect(await other.get(claimFor('stranded-1'))).toMatchObject({ status: 'unknown' });
  } finally {
    await other.close();
    await service.stop();
  }
});

import express from 'express';
import request from 'supertest';
import { documentedOperations, servedOperations, validateOpenApi, type OpenApiDocument } from '../helpers/openapi';
import net, { type AddressInfo } from 'node:net';
import { createLogger } from '../../src/logging/logger';
import { createMetrics } from '../../src/observability/metrics';
import { operationsRoutes } from '../../src/http/operations-routes';
import { AuthThrottle } from '../../src/http/auth-throttle';
import { requestLog } from '../../src/http/request-log';
import { QSAPI_PATH, startSandboxGateway } from '../../src/sandbox/sandbox-server';
import { openSqliteJournal } from '../../src/store/sqlite-journal';
import { startService, temporaryDataDir, type TestService } from '../helpers/service';
import { ACCOUNT_ID, basicAuth, cardCharge } from '../helpers/test-data';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

describe('operations endpoints', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startService({ METRICS_TOKEN, ADMIN_TOKEN: 'admin-token-0123456789abcdef' });
  });
  afterAll(async () => {
    await service.stop();
  });

  test('when /healthz is asked, then it answers without credentials and says nothing of the configuration', async () => {
    const response = await request(service.url).get('/healthz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
    expect(response.headers['x-request-id']).toBeDefined();
  });

  test('when /readyz is asked, then mappings, journal and the embedded sandbox are checked', async () => {
    const response = await request(service.url).get('/readyz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready', checks: { mappings: 'ok', journal: 'ok', sandbox: 'ok' } });
    expect(response.text).not.toContain('127.0.0.1');
  });

  test('when payments have run, then /metrics counts them by connector, method, tender and outcome, with no account or transaction value', async () => {
    const approved = cardCharge();
    await request(service.url).post('/').set('Authorization', basicAuth()).send(approved);
    await request(service.url).post('/').set('Authorization', basicAuth()).send(approved);
    await request(service.url).post('/').set('Authorization', basicAuth()).send(cardCharge({ amount: '4.04' }));
    const response = await request(service.url).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.text;
    expect(text).toMatch(/^paybridge_payment_requests_total\{connector="payconex",method="charge",tender="card",outcome="approved"\} 1$/m);
    expect(text).toMatch(/^paybridge_payment_requests_total\{connector="payconex",method="charge",tender="card",outcome="error"\} 1$/m);
    expect(text).toMatch(/^paybridge_idempotent_replays_total\{connector="payconex"\} 1$/m);
    expect(text).toMatch(/^paybridge_unknown_outcomes_total\{connector="payconex"\} 1$/m);
    expect(text).toMatch(/^paybridge_gateway_duration_seconds_count\{connector="payconex"\} 2$/m);
    expect(text).toMatch(/^paybridge_requests_in_flight 1$/m);
    expect(text).toMatch(/^paybridge_process_resident_memory_bytes \d+/m);
    for (const value of [ACCOUNT_ID, String(approved.transaction_id), '4111111111111111']) expect(text).not.toContain(value);
  });

  test('when METRICS_TOKEN is set and not sent, then /metrics answers 401', async () => {
    const response = await request(service.url).get('/metrics');
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(response.body).toEqual({ error_code: 'UNAUTHORIZED', error_message: 'A valid metrics Bearer token is required' });
  });

  test('when /openapi.json is asked, then it is a valid OpenAPI 3.1 document', async () => {
    const response = await request(service.url).get('/openapi.json');
    expect(await validateOpenApi(response.text)).toEqual({ valid: true, version: '3.1' });
  });

  test('when the document and the routes are compared, then every route is documented and every documented operation is served', async () => {
    const document = (await request(service.url).get('/openapi.json')).body as OpenApiDocument;
    expect(servedOperations(service.app)).toEqual(documentedOperations(document));
  });

  test('when ADMIN_TOKEN is set, then the document lists the reconciliation API and its Bearer scheme', async () => {
    const document = (await request(service.url).get('/openapi.json')).body as OpenApiDocument;
    expect(documentedOperations(document)).toEqual(expect.arrayContaining(['GET /transactions', 'GET /transactions/{transaction_id}']));
    expect(document.components.securitySchemes).toHaveProperty('adminToken');
  });
});

// An API that is off is not advertised: the document tells a scanner nothing about it.
describe('when ADMIN_TOKEN is not set', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startService();
  });
  afterAll(async () => {
    await service.stop();
  });

  test('when /openapi.json is asked, then it has no /transactions path and no admin token scheme, and is still valid', async () => {
    const response = await request(service.url).get('/openapi.json');
    const document = response.body as OpenApiDocument;
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/transactions'))).toEqual([]);
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(['basicAuth', 'metricsToken']);
    expect(response.text).not.toContain('ADMIN_TOKEN');
    expect(await validateOpenApi(response.text)).toEqual({ valid: true, version: '3.1' });
  });

  test('when the document and the routes are compared, then they still match', async () => {
    const document = (await request(service.url).get('/openapi.json')).body as OpenApiDocument;
    expect(servedOperations(service.app)).toEqual(documentedOperations(document));
  });
});

test('when the journal cannot answer, then /readyz is 503 and names the failing check', async () => {
  const journal = openSqliteJournal(temporaryDataDir());
  await journal.close();
  const metrics = createMetrics();
  const app = express();
  app.use(requestLog(createLogger('error'), metrics));
  app.use(operationsRoutes({ catalog: { get: () => { throw new Error('unused'); }, list: () => [] }, journal, metrics, throttle: new AuthThrottle() }));
  const response = await request(app).get('/readyz');
  expect(response.status).toBe(503);
  expect(response.body).toEqual({ status: 'not ready', checks: { mappings: 'failing', journal: 'failing' } });
});

/** A loopback port nothing listens on: a sandbox container that is down. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// The compose quick start: GATEWAY_URL_PAYCONEX points at the sandbox container, so the embedded
// sandbox never starts and /readyz must check the one the service really calls.
describe('readiness with the sandbox outside the service (GATEWAY_URL_<NAME>)', () => {
  test('when the outside sandbox is down, then /readyz is 503, names the connector and not its address', async () => {
    const port = await closedPort();
    const service = await startService({ GATEWAY_ENV: 'sandbox', GATEWAY_URL_PAYCONEX: `http://127.0.0.1:${port}${QSAPI_PATH}` });
    try {
      const response = await request(service.url).get('/readyz');
      expect(response.status).toBe(503);
      expect(response.body).toEqual({ status: 'not ready', checks: { mappings: 'ok', journal: 'ok', 'gateway:payconex': 'failing' } });
      expect(response.text).not.toContain('127.0.0.1');
      expect(response.text).not.toContain(String(port));
      expect(response.text).not.toContain(QSAPI_PATH);
    } finally {
      await service.stop();
    }
  });

  test('when the outside sandbox is up, then /readyz is 200; when it stops, then 503', async () => {
    const sandbox = await startSandboxGateway();
    let sandboxRunning = true;
    const service = await startService({ GATEWAY_ENV: 'sandbox', GATEWAY_URL_PAYCONEX: sandbox.url + QSAPI_PATH });
    try {
      const up = await request(service.url).get('/readyz');
      expect(up.status).toBe(200);
      expect(up.body).toEqual({ status: 'ready', checks: { mappings: 'ok', journal: 'ok', 'gateway:payconex': 'ok' } });
      expect(up.text).not.toContain(sandbox.url);

      await sandbox.stop();
      sandboxRunning = false;
      const down = await request(service.url).get('/readyz');
      expect(down.status).toBe(503);
      expect(down.body.checks).toMatchObject({ 'gateway:payconex': 'failing' });
    } finally {
      await service.stop();
      if (sandboxRunning) await sandbox.stop();
    }
  });

  test('when the gateway environment is not sandbox, then /readyz does not depend on the gateways', async () => {
    const port = await closedPort();
    const service = await startService({ GATEWAY_ENV: 'certification', GATEWAY_URL_PAYCONEX: `http://127.0.0.1:${port}${QSAPI_PATH}` });
    try {
      const response = await request(service.url).get('/readyz');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ status: 'ready', checks: { mappings: 'ok', journal: 'ok' } });
    } finally {
      await service.stop();
    }
  });
});

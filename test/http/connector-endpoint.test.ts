import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import winston from 'winston';
import { Admission } from '../../src/http/admission';
import { AuthThrottle } from '../../src/http/auth-throttle';
import { CONNECTOR_ROUTES, connectorEndpoint, type ConnectorEndpointOptions } from '../../src/http/routes';
import { createLogger } from '../../src/logging/logger';
import { createMetrics } from '../../src/observability/metrics';
import { RECORDED_CHARGE_ID, serviceOnRecordingGateway } from '../helpers/recording-gateway';
import { CapturedLogs, startService, type TestService } from '../helpers/service';
import { basicAuth, cardCharge, cardTokenize } from '../helpers/test-data';

/**
 * The payment route is served on node:http before Express (src/http/routes.ts): these prove it
 * answers on every path Express would have matched for it, and leaves every other path to Express.
 */
let service: TestService;

beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service.stop();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A raw POST: the path goes out exactly as written (supertest would normalise it). */
function postRaw(path: string, body: string | Buffer, headers: Record<string, string> = {}, to = service): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const call = http.request(`${to.url}${path}`, { method: 'POST', headers: { Authorization: basicAuth(), ...headers } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> }));
    });
    call.on('error', reject);
    call.end(body);
  });
}

const charge = () => JSON.stringify(cardCharge());

describe('when a payment is posted to a connector path', () => {
  test.each(CONNECTOR_ROUTES.map((route) => route.replace(':name', 'payconex')))('when the path is %s, then the payment is taken', async (path) => {
    const body = path.endsWith('/tokenize') ? JSON.stringify(cardTokenize()) : charge();
    const answer = await postRaw(path, body);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(
      path.endsWith('/tokenize')
        ? { token_id: expect.stringMatching(/^\d{12}$/), error_code: null, error_message: null }
        : { charge_id: expect.stringMatching(/^\d{12}$/), error_code: null, error_message: null },
    );
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.headers['x-request-id']).toMatch(/\S/);
  });

  test.each([
    ['a trailing slash', '/connectors/payconex/charge/'],
    ['a trailing slash after /', '//'],
    ['capitals, as Express matches paths', '/CONNECTORS/payconex/Charge'],
    ['a query string', '/?source=ivr'],
    ['a percent-encoded name', '/connectors/pay%63onex'],
  ])('when the path has %s, then it is served as Express served it', async (_label, path) => {
    const answer = await postRaw(path, charge());
    expect(answer.status).toBe(200);
    expect(answer.body.charge_id).toMatch(/^\d{12}$/);
  });

  test('when the path says tokenize and the body has no method, then the answer is a token', async () => {
    const { method: _m, ...body } = cardTokenize();
    const answer = await postRaw('/Tokenize/', JSON.stringify(body));
    expect(answer.body).toEqual({ token_id: expect.stringMatching(/^\d{12}$/), error_code: null, error_message: null });
  });

  test.each([
    ['announced by Content-Length', false],
    ['found while reading a chunked body', true],
  ])('when the body is over the limit, %s, then 413 and the connection serves the next request', async (_label, chunked) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (body: string, headers: Record<string, string>) =>
      new Promise<{ status: number; body: Record<string, unknown>; socket: unknown }>((resolve, reject) => {
        const call = http.request(`${service.url}/`, { method: 'POST', agent, headers: { Authorization: basicAuth(), ...headers } }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown>, socket: res.socket }));
        });
        call.on('error', reject);
        call.end(body);
      });
    const large = JSON.stringify(cardCharge({ description: 'x'.repeat(17 * 1024) }));
    const refused = await send(large, chunked ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': String(Buffer.byteLength(large)) });
    expect(refused.status).toBe(413);
    expect(refused.body).toEqual({ charge_id: null, error_code: 'PAYLOAD_TOO_LARGE', error_message: 'The body is larger than the service accepts' });
    const next = await send(charge(), {});
    expect(next.status).toBe(200);
    expect(next.socket).toBe(refused.socket);
    agent.destroy();
  });

  test('when the connector name cannot be decoded, then 404 in the connector shape', async () => {
    const answer = await postRaw('/connectors/%E0%A4%A', charge());
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ charge_id: null, error_code: 'NOT_FOUND', error_message: 'No such path; POST / or /connectors/{name}' });
  });
});

describe('when the body is encoded in any way body-parser read', () => {
  const recorded = serviceOnRecordingGateway();
  const description = 'caf\u00e9 cr\u00e8me';
  /** The description the gateway received: what the service decoded from the body. */
  const sentDescription = () => new URLSearchParams(recorded.gateway.lastRequest().body).get('transaction_description');

  test.each([
    ['Latin-1, by its charset', Buffer.from(JSON.stringify(cardCharge({ description })), 'latin1'), { 'Content-Type': 'application/json; charset=iso-8859-1' }],
    ['UTF-8 with a byte order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(cardCharge({ description })))]), {}],
    ['gzip-compressed', zlib.gzipSync(JSON.stringify(cardCharge({ description }))), { 'Content-Encoding': 'gzip', 'Content-Type': 'application/json' }],
    ['UTF-8 with a charset parameter', Buffer.from(JSON.stringify(cardCharge({ description }))), { 'Content-Type': 'text/plain; charset=UTF-8' }],
  ])('when the body is %s, then the gateway receives the text it meant', async (_label, body, headers) => {
    const answer = await postRaw('/', body, headers, recorded.service);
    expect(answer.body.charge_id).toBe(RECORDED_CHARGE_ID);
    expect(sentDescription()).toBe(description);
  });

  test('when the body comes in chunks with no Content-Length, a character split between two of them, then it is read whole', async () => {
    const body = Buffer.from(JSON.stringify(cardCharge({ description })));
    const split = body.indexOf(Buffer.from('\u00e9')) + 1; // between the two bytes of the é
    const answer = await new Promise<Answer>((resolve, reject) => {
      const call = http.request(`${recorded.service.url}/`, { method: 'POST', headers: { Authorization: basicAuth(), 'Transfer-Encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> }));
      });
      call.on('error', reject);
      call.write(body.subarray(0, split));
      setTimeout(() => call.end(body.subarray(split)), 20);
    });
    expect(answer.body.charge_id).toBe(RECORDED_CHARGE_ID);
    expect(sentDescription()).toBe(description);
  });
});

describe('when a path only looks like a connector path', () => {
  test.each(['/connectors', '/connectors/', '/connectors//charge', '/connectors/payconex//', '/connectors/payconex/refund', '/charge/now', '///', '/chargeable'])(
    'when a payment is posted to %s, then Express answers 404',
    async (path) => {
      const answer = await postRaw(path, charge());
      expect(answer.status).toBe(404);
      expect(answer.body).toEqual({ charge_id: null, error_code: 'NOT_FOUND', error_message: 'No such path; POST / or /connectors/{name}' });
    },
  );

  test('when a connector path is asked with PUT, then Express answers 405 with Allow: POST', async () => {
    const answer = await new Promise<Answer>((resolve, reject) => {
      const call = http.request(`${service.url}/connectors/payconex/charge`, { method: 'PUT' }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> }));
      });
      call.on('error', reject);
      call.end(charge());
    });
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe('POST');
    expect(answer.body.error_code).toBe('METHOD_NOT_ALLOWED');
  });

  test('when the endpoint served payments and Express other paths, then each request has one log line with its route', async () => {
    const before = service.logs.lines.length;
    await postRaw('/connectors/payconex/charge', charge());
    await postRaw('/nowhere', charge());
    const lines = service.logs.entries().slice(before).filter((line) => line.message === 'payment' || line.message === 'request');
    expect(lines.map((line) => [line.message, line.route, line.status])).toEqual([
      ['payment', '/connectors/:name/charge', 200],
      ['request', 'unmatched', 404],
    ]);
  });
});

describe('when something unexpected fails before a payment request can be answered', () => {
  test('then its connection is closed, one line says so without the error text, and the process serves the next', async () => {
    const logs = new CapturedLogs();
    const logger = createLogger('info', [new winston.transports.Stream({ stream: logs.stream })]);
    const metrics = createMetrics();
    const throttle = new AuthThrottle();
    const admission = new Admission({ maxUnauthenticated: 10, maxUnauthenticatedPerAddress: 10, bodyTimeoutMs: 1000, isTrustedProxy: () => false, throttle, metrics, logger });
    // The first thing the endpoint asks of the service's parts throws: nothing in its chain can answer.
    const endpoint = connectorEndpoint({
      admission,
      logger,
      metrics,
      peerAddress: () => {
        throw new Error('unexpected, with 4111111111111111 in its text');
      },
    } as unknown as ConnectorEndpointOptions);
    const server = http.createServer((req, res) => {
      if (!endpoint(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const attempt = () =>
      new Promise<string>((resolve) => {
        const call = http.request(url, { method: 'POST', headers: { Authorization: basicAuth() } }, () => resolve('answered'));
        call.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        call.end(charge());
      });
    try {
      expect([await attempt(), await attempt()]).toEqual(['ECONNRESET', 'ECONNRESET']);
      const lines = logs.entries().filter((line) => line.message === 'could not answer a payment request');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatchObject({ level: 'error', error_type: 'Error' });
      expect(logs.text).not.toContain('4111111111111111');
    } finally {
      server.close();
    }
  });
});

import diagnostics from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import { Agent } from 'undici';
import { GatewayBadResponse, GatewayNoResponse, GatewayTimeout, GatewayUnreachable } from '../../src/errors';
import { createGatewayClient, UNDICI_ERRORS, type GatewayClient, type GatewayClientOptions } from '../../src/gateway/gateway-client';
import type { GatewayRequest } from '../../src/mapping/compile';
import { secret } from '../../src/redaction/secret';
import { holdsHttpRequest, onWholeRequest, RawGateway, type RawBehaviour } from '../helpers/raw-gateway';
import { ACCESS_KEY, ACCOUNT_ID, CVV, VISA, basicAuth } from '../helpers/test-data';

/**
 * Every undici error code the gateway client maps, met for real: a loopback gateway misbehaves the
 * way that causes it, undici reports the code (its own diagnostics channel, or the same call made
 * with undici alone), and the client turns it into the service's error, which says whether anything
 * was sent and carries nothing of the request.
 */
const AUTHORIZATION = basicAuth();
const payment: GatewayRequest = {
  method: 'POST',
  encoding: 'form',
  headers: { Authorization: secret.hidden(AUTHORIZATION) },
  fields: [
    ['account_id', ACCOUNT_ID],
    ['api_accesskey', secret.hidden(ACCESS_KEY)],
    ['card_number', secret.cardNumber(VISA)],
    ['card_verification', secret.hidden(CVV)],
    ['transaction_amount', '10.00'],
  ],
};
const CLEAR = [VISA, CVV, ACCESS_KEY, AUTHORIZATION, AUTHORIZATION.slice('Basic '.length), 'card_number=', 'api_accesskey='];

/** The undici error codes the requests of this file met, as undici published them. */
let published: string[] = [];
const record = (message: unknown) => {
  const code = (message as { error?: { code?: unknown } }).error?.code;
  published.push(typeof code === 'string' ? code : String(code));
};
beforeAll(() => diagnostics.subscribe('undici:request:error', record));
afterAll(() => diagnostics.unsubscribe('undici:request:error', record));

const gateways: RawGateway[] = [];
const clients: GatewayClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(gateways.splice(0).map((gateway) => gateway.stop()));
});

async function rawGateway(behaviour: RawBehaviour): Promise<RawGateway> {
  const gateway = await new RawGateway(behaviour).start();
  gateways.push(gateway);
  return gateway;
}

function client(options: Partial<GatewayClientOptions> = {}): GatewayClient {
  const made = createGatewayClient({ timeoutMs: 10_000, ...options });
  clients.push(made);
  return made;
}

const met = new Set<string>();

/** Sends the payment, expects it to fail, and checks what the failure may carry. */
async function failure(sender: GatewayClient, url: string): Promise<Error> {
  published = [];
  const error = await sender.send(url, payment).then(
    () => {
      throw new Error('the gateway client answered');
    },
    (caught: unknown) => caught as Error,
  );
  expect(error.cause).toBeUndefined();
  const text = `${inspect(error, { showHidden: true, depth: Infinity })} ${JSON.stringify(error)} ${error.stack ?? ''}`;
  for (const clear of CLEAR) expect(text).not.toContain(clear);
  return error;
}

/** An HTTP answer head, as a misbehaving gateway writes it. */
const head = (lines: string[]) => `HTTP/1.1 200 OK\r\n${lines.map((line) => `${line}\r\n`).join('')}\r\n`;

test('UND_ERR_CONNECT_TIMEOUT: the TLS handshake never completes, then GATEWAY_UNREACHABLE and no request byte was sent', async () => {
  const gateway = await rawGateway(() => undefined);
  const error = await failure(client({ connectTimeoutMs: 200 }), gateway.httpsUrl);
  expect(published).toContain('UND_ERR_CONNECT_TIMEOUT');
  expect(error).toBeInstanceOf(GatewayUnreachable);
  expect(gateway.connections).toBe(1);
  expect(holdsHttpRequest(gateway.received())).toBe(false);
  met.add('UND_ERR_CONNECT_TIMEOUT');
});

test('UND_ERR_CONNECT_TIMEOUT by default: the connection has half the deadline, so a handshake that never ends is GATEWAY_UNREACHABLE, not a timeout', async () => {
  const gateway = await rawGateway(() => undefined);
  const error = await failure(client({ timeoutMs: 4_000 }), gateway.httpsUrl);
  expect(published).toContain('UND_ERR_CONNECT_TIMEOUT');
  expect(error).toBeInstanceOf(GatewayUnreachable);
});

test('UND_ERR_HEADERS_TIMEOUT: the gateway reads the request and never answers, then GATEWAY_TIMEOUT (outcome unknown)', async () => {
  const gateway = await rawGateway(() => undefined);
  const error = await failure(client({ headersTimeoutMs: 300 }), gateway.url);
  expect(published).toContain('UND_ERR_HEADERS_TIMEOUT');
  expect(error).toBeInstanceOf(GatewayTimeout);
  expect(holdsHttpRequest(gateway.received())).toBe(true);
  met.add('UND_ERR_HEADERS_TIMEOUT');
});

test('UND_ERR_BODY_TIMEOUT: the answer starts and then stalls, then GATEWAY_TIMEOUT', async () => {
  const gateway = await rawGateway((socket, received) => onWholeRequest(socket, received, () => socket.write(`${head(['Content-Type: application/json', 'Content-Length: 100'])}{"transaction_id":`)));
  const error = await failure(client({ bodyTimeoutMs: 300 }), gateway.url);
  expect(published).toContain('UND_ERR_BODY_TIMEOUT');
  expect(error).toBeInstanceOf(GatewayTimeout);
  met.add('UND_ERR_BODY_TIMEOUT');
});

test.each([
  ['before the answer', () => undefined],
  ['in the middle of the answer', ((socket, received) => onWholeRequest(socket, received, () => socket.write(`${head(['Content-Length: 100'])}{"transaction_id":`))) as RawBehaviour],
])('UND_ERR_ABORTED: the deadline passes %s, then GATEWAY_TIMEOUT, and the deadline, not undici’s timers, decided', async (_when, behaviour) => {
  const gateway = await rawGateway(behaviour);
  const started = Date.now();
  const error = await failure(client({ timeoutMs: 400 }), gateway.url);
  expect(published).toEqual(['UND_ERR_ABORTED']);
  expect(error).toBeInstanceOf(GatewayTimeout);
  expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  met.add('UND_ERR_ABORTED');
});

test.each([
  ['hangs up once it has the request', ((socket, received) => onWholeRequest(socket, received, () => socket.destroy())) as RawBehaviour],
  ['hangs up in the middle of a keep-alive answer', ((socket, received) => onWholeRequest(socket, received, () => socket.end(`${head(['Content-Length: 100'])}{"transaction_id":`))) as RawBehaviour],
])('UND_ERR_SOCKET: the gateway %s, then GATEWAY_NO_RESPONSE (outcome unknown), and the request is not sent again', async (_what, behaviour) => {
  const gateway = await rawGateway(behaviour);
  const error = await failure(client(), gateway.url);
  expect(published).toContain('UND_ERR_SOCKET');
  expect(error).toBeInstanceOf(GatewayNoResponse);
  expect(gateway.received().match(/^POST \//gm)).toHaveLength(1);
  met.add('UND_ERR_SOCKET');
});

test.each([
  ['with a Content-Length of 2 MB', (socket: import('node:net').Socket) => socket.write(head(['Content-Length: 2097152']) + '9'.repeat(2 * 1024 * 1024))],
  ['chunked, past 1 MB', (socket: import('node:net').Socket) => {
    socket.write(head(['Transfer-Encoding: chunked']));
    const chunk = `${(64 * 1024).toString(16)}\r\n${'9'.repeat(64 * 1024)}\r\n`;
    for (let i = 0; i < 20; i++) socket.write(chunk);
  }],
])('UND_ERR_RES_EXCEEDED_MAX_SIZE: an answer %s, then GATEWAY_BAD_RESPONSE', async (_label, answer) => {
  const gateway = await rawGateway((socket, received) => onWholeRequest(socket, received, () => answer(socket)));
  const error = await failure(client(), gateway.url);
  expect(published).toContain('UND_ERR_RES_EXCEEDED_MAX_SIZE');
  expect(error).toBeInstanceOf(GatewayBadResponse);
  met.add('UND_ERR_RES_EXCEEDED_MAX_SIZE');
});

test('UND_ERR_RES_CONTENT_LENGTH_MISMATCH: the answer ends short of its Content-Length, then GATEWAY_BAD_RESPONSE', async () => {
  const gateway = await rawGateway((socket, received) => onWholeRequest(socket, received, () => socket.end(`${head(['Connection: close', 'Content-Length: 100'])}{"transaction_id":"1"}`)));
  const error = await failure(client(), gateway.url);
  expect(published).toContain('UND_ERR_RES_CONTENT_LENGTH_MISMATCH');
  expect(error).toBeInstanceOf(GatewayBadResponse);
  met.add('UND_ERR_RES_CONTENT_LENGTH_MISMATCH');
});

test('UND_ERR_HEADERS_OVERFLOW: the answer’s headers run past undici’s limit, then GATEWAY_BAD_RESPONSE', async () => {
  const gateway = await rawGateway((socket, received) => onWholeRequest(socket, received, () => socket.end(head([`X-Padding: ${'a'.repeat(64 * 1024)}`, 'Content-Length: 2']) + '{}')));
  const error = await failure(client(), gateway.url);
  expect(published).toContain('UND_ERR_HEADERS_OVERFLOW');
  expect(error).toBeInstanceOf(GatewayBadResponse);
  met.add('UND_ERR_HEADERS_OVERFLOW');
});

test('HPE_* (undici’s HTTP parser error, which keeps the answer’s bytes): the gateway answers something that is not HTTP, then GATEWAY_BAD_RESPONSE without those bytes', async () => {
  const echo = `NOT HTTP ${VISA}\r\n\r\n`;
  const gateway = await rawGateway((socket, received) => onWholeRequest(socket, received, () => socket.end(echo)));
  const error = await failure(client(), gateway.url);
  expect(published).toEqual([expect.stringMatching(/^HPE_/)]);
  expect(error).toBeInstanceOf(GatewayBadResponse);
});

test('UND_ERR_INVALID_ARG: a header value HTTP cannot carry is refused by undici before any connection, then GATEWAY_UNREACHABLE', async () => {
  const gateway = await rawGateway(() => undefined);
  const broken: GatewayRequest = { ...payment, headers: { ...payment.headers, 'X-Note': 'one\r\nX-Injected: two' } };
  // The same request through undici alone: refused with this code.
  const bare = new Agent();
  await expect(bare.request({ origin: `http://127.0.0.1:${gateway.port}`, path: '/api', method: 'POST', headers: { 'X-Note': 'one\r\nX-Injected: two' }, body: 'a=1' })).rejects.toMatchObject({ code: 'UND_ERR_INVALID_ARG' });
  await bare.close();
  const sender = client();
  const error = await sender.send(gateway.url, broken).catch((caught: unknown) => caught as Error);
  expect(error).toBeInstanceOf(GatewayUnreachable);
  expect((error as Error).cause).toBeUndefined();
  expect(gateway.connections).toBe(0);
  met.add('UND_ERR_INVALID_ARG');
});

test('UND_ERR_CLOSED: a payment while the client is closing (the service stopping) is refused before it is sent, then GATEWAY_UNREACHABLE; the one in flight still gets its answer', async () => {
  const gateway = await rawGateway((socket, received) =>
    onWholeRequest(socket, received, () => setTimeout(() => socket.end(`${head(['Connection: close', 'Content-Length: 2'])}{}`), 300)),
  );
  const sender = client();
  const inFlight = sender.send(gateway.url, payment);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const closing = sender.close();
  const error = await failure(sender, gateway.url);
  expect(published).toEqual([]);
  expect(error).toBeInstanceOf(GatewayUnreachable);
  await expect(inFlight).resolves.toEqual({ status: 200, body: '{}' });
  await closing;
  expect(gateway.received().match(/^POST \//gm)).toHaveLength(1);
  // The same refusal, from undici alone, has this code.
  const bare = new Agent();
  const held = bare.request({ origin: `http://127.0.0.1:${gateway.port}`, path: '/api', method: 'POST', body: 'a=1' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const bareClosing = bare.close();
  await expect(bare.request({ origin: `http://127.0.0.1:${gateway.port}`, path: '/api', method: 'POST', body: 'a=1' })).rejects.toMatchObject({ code: 'UND_ERR_CLOSED' });
  await (await held).body.text();
  await bareClosing;
  met.add('UND_ERR_CLOSED');
});

test('UND_ERR_DESTROYED: a payment after the client was closed is refused before it is sent, then GATEWAY_UNREACHABLE', async () => {
  const gateway = await rawGateway(() => undefined);
  const bare = new Agent();
  await bare.close();
  await expect(bare.request({ origin: `http://127.0.0.1:${gateway.port}`, path: '/api', method: 'POST', body: 'a=1' })).rejects.toMatchObject({ code: 'UND_ERR_DESTROYED' });
  const sender = client();
  await sender.close();
  const error = await failure(sender, gateway.url);
  expect(error).toBeInstanceOf(GatewayUnreachable);
  expect(gateway.connections).toBe(0);
  met.add('UND_ERR_DESTROYED');
});

test('every undici code the client maps was met above', () => {
  expect([...met].sort()).toEqual([...UNDICI_ERRORS.keys()].sort());
});

import { execFileSync } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { GatewayTimeout, GatewayUnreachable } from '../../src/errors';
import { createGatewayClient, type GatewayClient } from '../../src/gateway/gateway-client';
import type { GatewayRequest } from '../../src/mapping/compile';
import { onWholeRequest, RawGateway } from '../helpers/raw-gateway';
import { startService } from '../helpers/service';
import { basicAuth, cardCharge } from '../helpers/test-data';

/**
 * How the gateway client carries a payment: straight to the gateway (never through a proxy the
 * environment names), over kept-alive connections of one pool per gateway origin, within one
 * deadline for the whole exchange.
 */
const payment: GatewayRequest = { method: 'POST', encoding: 'form', headers: {}, fields: [['transaction_amount', '10.00']] };

interface CountingServer {
  url: string;
  connections: () => number;
  requests: () => number;
  close: () => Promise<void>;
}

async function countingServer(create: (handler: http.RequestListener) => http.Server, scheme = 'http'): Promise<CountingServer> {
  let connections = 0;
  let requests = 0;
  const server = create((req, res) => {
    requests += 1;
    req.resume();
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'));
  });
  server.on(scheme === 'https' ? 'secureConnection' : 'connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}/api`,
    connections: () => connections,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let client: GatewayClient;
beforeEach(() => {
  client = createGatewayClient({ timeoutMs: 5_000 });
});
afterEach(() => client.close());

describe('when the environment names a proxy', () => {
  const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy', 'NO_PROXY', 'no_proxy'];
  const saved: Record<string, string | undefined> = {};
  let proxy: CountingServer;
  beforeAll(async () => {
    proxy = await countingServer((handler) => http.createServer(handler));
    for (const name of PROXY_VARIABLES) saved[name] = process.env[name];
    for (const name of PROXY_VARIABLES) delete process.env[name];
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) process.env[name] = proxy.url.replace(/\/api$/, '');
  });
  afterAll(async () => {
    for (const name of PROXY_VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await proxy.close();
  });

  test('when a payment goes to an http gateway, then it goes straight to the gateway and the proxy sees no connection', async () => {
    const gateway = await countingServer((handler) => http.createServer(handler));
    try {
      await expect(client.send(gateway.url, payment)).resolves.toEqual({ status: 200, body: '{"ok":true}' });
      expect(gateway.requests()).toBe(1);
      expect(proxy.connections()).toBe(0);
    } finally {
      await gateway.close();
    }
  });

  test('when a payment goes to an https gateway, then the TLS connection is the gateway’s own (its untrusted certificate refused) and the proxy sees no connection', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const credentials = { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) };
    let handshakes = 0;
    const gateway = await countingServer((handler) => https.createServer(credentials, handler).on('connection', () => (handshakes += 1)), 'https');
    try {
      await expect(client.send(gateway.url, payment)).rejects.toBeInstanceOf(GatewayUnreachable);
      expect(handshakes).toBe(1);
      expect(gateway.requests()).toBe(0);
      expect(proxy.connections()).toBe(0);
    } finally {
      await gateway.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('when payments follow one another, then each gateway origin keeps its connections alive and for itself: twenty payments, a connection or two per origin', async () => {
  const first = await countingServer((handler) => http.createServer(handler));
  const second = await countingServer((handler) => http.createServer(handler));
  try {
    for (let i = 0; i < 10; i++) await client.send(first.url, payment);
    expect(first.requests()).toBe(10);
    // undici's pool may hand the next request to a second connection while the first settles.
    const firstConnections = first.connections();
    expect(firstConnections).toBeLessThanOrEqual(2);
    for (let i = 0; i < 5; i++) {
      await client.send(second.url, payment);
      await client.send(`${first.url}?again=${i}`, payment);
    }
    expect(first.requests()).toBe(15);
    expect(second.requests()).toBe(5);
    expect(first.connections()).toBe(firstConnections);
    expect(second.connections()).toBeLessThanOrEqual(2);
  } finally {
    await first.close();
    await second.close();
  }
});

test('when many payments run at once, then they run side by side on as many connections of the pool', async () => {
  let open = 0;
  let mostAtOnce = 0;
  const server = http.createServer((req, res) => {
    open += 1;
    mostAtOnce = Math.max(mostAtOnce, open);
    req.resume();
    setTimeout(() => {
      open -= 1;
      res.end('{}');
    }, 100);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
    await Promise.all(Array.from({ length: 20 }, () => client.send(url, payment)));
    expect(mostAtOnce).toBe(20);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('when the gateway trickles its answer a byte at a time, each within undici’s body timeout, then the one deadline still ends the exchange: GATEWAY_TIMEOUT', async () => {
  const gateway = await new RawGateway((socket, received) =>
    onWholeRequest(socket, received, () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
      const drip = setInterval(() => (socket.destroyed ? clearInterval(drip) : socket.write('9')), 50);
      socket.on('close', () => clearInterval(drip));
    }),
  ).start();
  const patient = createGatewayClient({ timeoutMs: 600, bodyTimeoutMs: 300, headersTimeoutMs: 300 });
  try {
    const started = Date.now();
    await expect(patient.send(gateway.url, payment)).rejects.toBeInstanceOf(GatewayTimeout);
    expect(Date.now() - started).toBeGreaterThanOrEqual(590);
  } finally {
    await patient.close();
    await gateway.stop();
  }
});

test('when the service has taken a payment, then nothing listens on undici’s diagnostics channels, which hand every request (card data included) to their subscribers', async () => {
  const service = await startService();
  try {
    const answer = await request(service.url).post('/').set('Authorization', basicAuth()).send(cardCharge());
    expect(answer.body.charge_id).toMatch(/^\d{12}$/);
    const channels = ['create', 'bodySent', 'headers', 'trailers', 'error'].map((name) => `undici:request:${name}`);
    channels.push('undici:client:sendHeaders', 'undici:client:beforeConnect', 'undici:client:connected', 'undici:client:connectError');
    expect(channels.filter((name) => diagnostics.hasSubscribers(name))).toEqual([]);
  } finally {
    await service.stop();
  }
});

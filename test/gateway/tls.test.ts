import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { GatewayUnreachable } from '../../src/errors';
import { createGatewayClient } from '../../src/gateway/gateway-client';

/**
 * Card data goes only to a gateway whose certificate is trusted, over TLS 1.2 or later.
 * A refused handshake sent nothing: the answer is GATEWAY_UNREACHABLE, never an unknown outcome.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-'));
const key = path.join(dir, 'key.pem');
const cert = path.join(dir, 'cert.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
const credentials = { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };

const payment = { method: 'POST' as const, encoding: 'form' as const, headers: {}, fields: [['amount', '10.00']] as Array<[string, string]> };
const client = createGatewayClient({ timeoutMs: 5_000 });
afterAll(() => client.close());

async function gatewayServer(options: https.ServerOptions): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server = https.createServer({ ...credentials, ...options }, (_req, res) => {
    requests += 1;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The same server, reached by a client that trusts its certificate: proof that it works at all. */
function trustingGet(url: string, options: https.RequestOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: credentials.cert, ...options }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

test('when the gateway certificate is not trusted, then nothing is sent and the answer is GATEWAY_UNREACHABLE', async () => {
  const gateway = await gatewayServer({});
  try {
    expect(await trustingGet(gateway.url)).toBe(200);
    const before = gateway.requests();
    await expect(client.send(gateway.url, payment)).rejects.toBeInstanceOf(GatewayUnreachable);
    expect(gateway.requests()).toBe(before);
  } finally {
    await gateway.close();
  }
});

test('when the gateway speaks only TLS 1.1, then nothing is sent and the answer is GATEWAY_UNREACHABLE', async () => {
  const legacy = { minVersion: 'TLSv1' as const, maxVersion: 'TLSv1.1' as const, ciphers: 'DEFAULT@SECLEVEL=0' };
  const gateway = await gatewayServer(legacy);
  try {
    expect(await trustingGet(gateway.url, legacy)).toBe(200);
    const before = gateway.requests();
    await expect(client.send(gateway.url, payment)).rejects.toBeInstanceOf(GatewayUnreachable);
    expect(gateway.requests()).toBe(before);
  } finally {
    await gateway.close();
  }
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { announce, connectorAnswer, qsapiForm, requiredSandboxUrl } from './forwarding';

/** The ceiling for a Node bridge here: node:http in, an undici connection pool out, nothing else. */
const target = new URL(requiredSandboxUrl());
const pool = new Pool(target.origin, { connections: 128, pipelining: 1 });

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', async () => {
    const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, string>;
    const answer = await pool.request({
      path: target.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: qsapiForm(body, req.headers.authorization),
    });
    const text = await answer.body.text();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(connectorAnswer(text));
  });
});
server.listen(0, '127.0.0.1', () => announce((server.address() as AddressInfo).port));

import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { RecordingGateway } from '../helpers/recording-gateway';
import { startService, temporaryDataDir } from '../helpers/service';
import { startServiceProcess } from '../helpers/service-process';
import { basicAuth, cardCharge } from '../helpers/test-data';

/** Opens a raw connection, sends `head`, then one more byte every 200 ms; resolves with what came back and when. */
function trickle(url: string, head: string, drip: string): Promise<{ reply: string; closedAfterMs: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(Number(port), hostname, () => socket.write(head));
    const timer = setInterval(() => socket.writable && socket.write(drip), 200);
    let reply = '';
    socket.on('data', (chunk) => (reply += chunk.toString()));
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ reply, closedAfterMs: Date.now() - started });
    });
    socket.on('error', () => undefined);
  });
}

describe('slow clients', () => {
  test('when a client trickles its headers (slow loris), then the connection is cut after HEADERS_TIMEOUT_MS', async () => {
    const service = await startService({ HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '1500' });
    try {
      const { reply, closedAfterMs } = await trickle(service.url, 'POST / HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n');
      expect(reply).toMatch(/^HTTP\/1\.1 408/);
      expect(reply).toMatch(/\r\nX-Request-Id: \S+\r\n/i);
      expect(JSON.parse(reply.split('\r\n\r\n')[1]!)).toEqual({ charge_id: null, error_code: 'REQUEST_TIMEOUT', error_message: 'The request was not received in time' });
      expect(closedAfterMs).toBeLessThan(10_000);
    } finally {
      await service.stop();
    }
  });

  test('when a client trickles its body, then the connection is cut after REQUEST_TIMEOUT_MS', async () => {
    const service = await startService({ HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '1500' });
    try {
      const head = `POST / HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth()}\r\nContent-Length: 10000\r\n\r\n`;
      const { reply, closedAfterMs } = await trickle(service.url, head, ' ');
      expect(reply).toMatch(/^HTTP\/1\.1 408/);
      expect(closedAfterMs).toBeLessThan(10_000);
    } finally {
      await service.stop();
    }
  });
});

describe('graceful shutdown', () => {
  test('when SIGTERM arrives with 40 payments in flight, then every accepted request is answered, recorded, and the process exits 0', async () => {
    const gateway = await new RecordingGateway().start();
    const dataDir = temporaryDataDir();
    const service = await startServiceProcess({ DATA_DIR: dataDir, GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8` });
    try {
      gateway.willAnswer({ body: JSON.stringify({ transaction_id: '000000005555', transaction_approved: true, error: false }), delayMs: 700 });
      const bodies = Array.from({ length: 40 }, () => cardCharge());
      const answers = Promise.all(bodies.map((body) => request(service.url).post('/').set('Authorization', basicAuth()).send(body)));
      await gateway.received(40);
      service.child.kill('SIGTERM');

      const responses = await answers;
      expect(responses.map((response) => response.status)).toEqual(bodies.map(() => 200));
      expect(new Set(responses.map((response) => response.body.charge_id))).toEqual(new Set(['000000005555']));
      expect(await service.exited).toBe(0);

      const db = new Database(path.join(dataDir, 'journal.sqlite'), { readonly: true });
      const statuses = db.prepare<[], { status: string; count: number }>('SELECT status, COUNT(*) AS count FROM transactions GROUP BY status').all();
      db.close();
      expect(statuses).toEqual([{ status: 'approved', count: 40 }]);
      await expect(request(service.url).post('/').send('{}')).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      service.child.kill('SIGKILL');
      await gateway.stop();
    }
  });

  test('when SIGTERM arrives while a keep-alive client sends payments back to back, then its answer closes the connection and no sent request is cut', async () => {
    const gateway = await new RecordingGateway().start();
    const service = await startServiceProcess({
      DATA_DIR: temporaryDataDir(),
      GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8`,
      SHUTDOWN_TIMEOUT_MS: '2500',
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      gateway.willAnswer({ body: JSON.stringify({ transaction_id: '000000006666', transaction_approved: true, error: false }), delayMs: 1_000 });
      const outcomes: string[] = [];
      const client = (async () => {
        for (let sent = 0; sent < 10; sent++) {
          const outcome = await postOn(agent, service.url, JSON.stringify(cardCharge()));
          outcomes.push(outcome);
          if (outcome === 'ECONNREFUSED') return;
        }
      })();
      await gateway.received(1);
      service.child.kill('SIGTERM');
      await client;
      expect(await service.exited).toBe(0);
      // Each request sent was answered; the one after the shutdown found the door closed.
      expect(outcomes.at(-1)).toBe('ECONNREFUSED');
      expect(outcomes.slice(0, -1)).toEqual(outcomes.slice(0, -1).map(() => '200 close'));
    } finally {
      agent.destroy();
      service.child.kill('SIGKILL');
      await gateway.stop();
    }
  });
});

/** One POST on the agent's connection: "<status> <connection header>", or the socket error's code. */
function postOn(agent: http.Agent, url: string, body: string): Promise<string> {
  return new Promise((resolve) => {
    const call = http.request(url, { method: 'POST', agent, headers: { Authorization: basicAuth(), 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(`${res.statusCode} ${res.headers.connection}`));
    });
    call.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    call.end(body);
  });
}

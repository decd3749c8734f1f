import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startService, type TestService } from './service';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface ScriptedAnswer {
  status?: number;
  contentType?: string;
  body: string;
  /** Wait this long before answering: a slow gateway. */
  delayMs?: number;
  headers?: Record<string, string>;
}

/**
 * A stand-in gateway on loopback: records every request it receives and answers
 * what the test scripted. Used where a test must see the exact gateway request.
 */
export class RecordingGateway {
  readonly requests: RecordedRequest[] = [];
  private answer: ScriptedAnswer = { body: '{}' };
  private server?: http.Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  url = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const answer = this.answer;
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (res.destroyed) return;
          res.writeHead(answer.status ?? 200, { 'Content-Type': answer.contentType ?? 'application/json', ...answer.headers });
          res.end(answer.body);
        }, answer.delayMs ?? 0);
        this.timers.add(timer);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  willAnswer(answer: ScriptedAnswer): void {
    this.answer = answer;
  }

  lastRequest(): RecordedRequest {
    const last = this.requests[this.requests.length - 1];
    if (!last) throw new Error('the gateway received no request');
    return last;
  }

  /** The last request's form body as ordered [name, value] pairs. */
  lastForm(): Array<[string, string]> {
    return [...new URLSearchParams(this.lastRequest().body)];
  }

  /** Resolves once the gateway has received `count` requests in all. */
  async received(count: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      if (Date.now() > deadline) throw new Error(`the gateway received ${this.requests.length} of ${count} requests`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await new Promise<void>((resolve) => {
      this.server?.close(() => resolve());
      this.server?.closeAllConnections();
    });
  }
}

/** The charge id the approving recording gateway gives every payment. */
export const RECORDED_CHARGE_ID = '000000004242';

/**
 * For a describe block: the service with its PayConex connector on a recording gateway that
 * approves every payment (RECORDED_CHARGE_ID), for tests that must see what reached the gateway.
 * Both start before the block's tests and stop after them.
 */
export function serviceOnRecordingGateway(): { gateway: RecordingGateway; readonly service: TestService } {
  const gateway = new RecordingGateway();
  let service: TestService | undefined;
  beforeAll(async () => {
    await gateway.start();
    gateway.willAnswer({ body: JSON.stringify({ transaction_id: RECORDED_CHARGE_ID, transaction_approved: true, error: false, error_code: 0 }) });
    service = await startService({ GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8` });
  });
  afterAll(async () => {
    await service?.stop();
    await gateway.stop();
  });
  return {
    gateway,
    get service() {
      if (!service) throw new Error('the service starts in beforeAll');
      return service;
    },
  };
}

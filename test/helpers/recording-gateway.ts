import http from 'node:http';
import type { AddressInfo } from 'node:net';

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
}

/**
 * A stand-in gateway on loopback: records every request it receives and answers
 * what the test scripted. Used where a test must see the exact gateway request.
 */
export class RecordingGateway {
  readonly requests: RecordedRequest[] = [];
  private answer: ScriptedAnswer = { body: '{}' };
  private server?: http.Server;
  url = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(this.answer.status ?? 200, { 'Content-Type': this.answer.contentType ?? 'application/json' });
        res.end(this.answer.body);
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

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server?.close(() => resolve());
      this.server?.closeAllConnections();
    });
  }
}

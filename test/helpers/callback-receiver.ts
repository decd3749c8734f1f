import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  path: string;
  fields: Record<string, string>;
  raw: string;
}

/**
 * Where the simulator posts status callbacks and <Pay> action requests: a real
 * server on loopback that keeps every form-encoded body it receives.
 */
export class CallbackReceiver {
  readonly received: ReceivedRequest[] = [];
  private server?: http.Server;
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        this.received.push({ path: req.url ?? '', fields: Object.fromEntries(new URLSearchParams(raw)), raw });
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  /** The bodies posted to one path. */
  at(path: string): Array<Record<string, string>> {
    return this.received.filter((request) => request.path === path).map((request) => request.fields);
  }

  /** The first body matching `predicate`, waiting for it to arrive. */
  async waitFor(predicate: (fields: Record<string, string>) => boolean, timeoutMs = 15_000): Promise<Record<string, string>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find((request) => predicate(request.fields));
      if (found) return found.fields;
      if (Date.now() > deadline) throw new Error(`no callback matched: ${JSON.stringify(this.received.slice(-3).map((r) => r.fields))}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

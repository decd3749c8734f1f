import net from 'node:net';

/** What a raw gateway does with each connection: it gets the socket and the bytes received so far. */
export type RawBehaviour = (socket: net.Socket, received: () => string) => void;

/**
 * A TCP server on loopback that speaks only what the test writes: a gateway that misbehaves below
 * HTTP (never answers, answers half, answers garbage, hangs up). It records every byte it receives,
 * so a test can tell whether a request was sent at all.
 */
export class RawGateway {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private bytes = '';
  connections = 0;
  port = 0;

  constructor(private readonly behaviour: RawBehaviour) {}

  async start(): Promise<this> {
    this.server = net.createServer((socket) => {
      this.connections += 1;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      let mine = '';
      socket.on('data', (chunk: Buffer) => {
        mine += chunk.toString('latin1');
        this.bytes += chunk.toString('latin1');
      });
      this.behaviour(socket, () => mine);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  /** The same port named https://: the client starts a TLS handshake that this server never answers. */
  get httpsUrl(): string {
    return `https://127.0.0.1:${this.port}/api`;
  }

  /** Every byte received on every connection, as latin1 text. */
  received(): string {
    return this.bytes;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** Calls `then` once a whole HTTP request head and its Content-Length of body have arrived. */
export function onWholeRequest(socket: net.Socket, received: () => string, then: () => void): void {
  const check = () => {
    const text = received();
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) return;
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
    if (text.length >= end + 4 + length) {
      socket.off('data', check);
      then();
    }
  };
  socket.on('data', check);
}

/** True when the bytes hold the start of an HTTP request (as opposed to a TLS ClientHello, or nothing). */
export function holdsHttpRequest(bytes: string): boolean {
  return /^(POST|PUT|GET) \//m.test(bytes);
}

import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHandler } from 'express';
import { answerFailure } from '../contract/connector-answer';
import { HeadersTooLarge, RequestTimeout, TooManyConnections } from '../errors';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../observability/metrics';
import type { AuthThrottle } from './auth-throttle';
import { answerRequestFailure } from './answer-error';
import { clientAddress } from './client-address';
import { contextOf, type RequestContext } from './request-context';

/** Basic credentials take well under 200 bytes and a bearer token under 1 KB; more is not a credential. */
export const AUTHORIZATION_HEADER_BYTES = 2048;
/** At most one warning per this many milliseconds while connections are refused. */
const REFUSAL_WARNING_INTERVAL_MS = 10_000;

export interface AdmissionOptions {
  /** Connections and requests that have not authenticated yet, in all. */
  maxUnauthenticated: number;
  /** The same per client address. */
  maxUnauthenticatedPerAddress: number;
  /** Time a request body has to arrive once its headers have. */
  bodyTimeoutMs: number;
  /** True for a peer whose X-Forwarded-For is believed (TRUST_PROXY). */
  isTrustedProxy(address: string): boolean;
  throttle: AuthThrottle;
  metrics: Metrics;
  logger: Logger;
}

type Limit = 'in_all' | 'per_address';

/**
 * What a client may hold before it has proven who it is. A connection holds a slot from the
 * moment it is accepted until a request on it authenticates (or it closes); a request that
 * arrives through a trusted proxy holds one of its client's address for as long as it has not
 * authenticated. Past MAX_UNAUTHENTICATED_CONNECTIONS in all, or MAX_UNAUTHENTICATED_PER_ADDRESS
 * for one address, the next is refused at once with 503 TOO_MANY_CONNECTIONS. Authenticated
 * traffic (an agent floor's event streams behind one address) holds no slot.
 *
 * Every request also gets a deadline for its body (BODY_TIMEOUT_MS after its headers), and an
 * Authorization header over 2 KB is refused before anything else is read.
 */
export class Admission {
  private unauthenticated = 0;
  private readonly byAddress = new Map<string, number>();
  private readonly refusedSockets = new WeakSet<Socket>();
  private readonly socketSlots = new WeakMap<Socket, () => void>();
  private lastWarningAt = 0;
  private refusedSinceWarning = 0;

  constructor(private readonly options: AdmissionOptions) {}

  /** The server's 'connection' listener: a slot for the new connection, or a 503 and the door. */
  readonly connection = (socket: Socket): void => {
    const peer = socket.remoteAddress ?? '';
    // Behind a trusted proxy every client shares its address: those are limited per request.
    const address = this.options.isTrustedProxy(peer) ? undefined : clientAddress(peer);
    const refusal = this.take(address, true);
    if (refusal) {
      this.refusedSockets.add(socket);
      this.refuse(refusal);
      socket.end(rawAnswer(new TooManyConnections(refusalMessage, 1)), () => socket.destroy());
      return;
    }
    const release = once(() => this.give(address, true));
    this.socketSlots.set(socket, release);
    socket.once('close', release);
  };

  /**
   * The very first middleware: a connection refused at accept time has had its answer; a request
   * it still managed to send is dropped, unlogged (the refusal is counted in a metric instead).
   */
  readonly dropRefused: RequestHandler = (req, _res, next) => {
    if (!this.droppedRefused(req)) next();
  };

  /** True when the request came on a connection refused at accept time: it is dropped, unlogged. */
  droppedRefused(req: IncomingMessage): boolean {
    if (!this.refusedSockets.has(req.socket)) return false;
    req.socket.destroy();
    return true;
  }

  /** After the request log: the checks every request passes before a route reads anything. */
  middleware(): RequestHandler {
    return (req, res, next) => {
      this.admit(req, res, contextOf(res));
      next();
    };
  }

  /** The checks of middleware(), for the connector endpoint too: throws the refusal. */
  admit(req: IncomingMessage, res: ServerResponse, context: RequestContext): void {
    const socketSlot = this.socketSlots.get(req.socket);
    let requestSlot: (() => void) | undefined;
    context.onAuthenticated = () => {
      socketSlot?.();
      requestSlot?.();
    };
    this.watchBody(req, res);

    if (Buffer.byteLength(req.headers.authorization ?? '') > AUTHORIZATION_HEADER_BYTES) {
      this.options.throttle.fail({ address: context.clientAddress });
      res.setHeader('Connection', 'close');
      throw new HeadersTooLarge('The Authorization header is larger than the service accepts');
    }
    if (this.options.isTrustedProxy(req.socket.remoteAddress ?? '')) {
      const refusal = this.take(context.clientAddress, false);
      if (refusal) {
        this.refuse(refusal);
        res.setHeader('Connection', 'close');
        throw new TooManyConnections(refusalMessage, 1);
      }
      requestSlot = once(() => this.give(context.clientAddress, false));
      context.whenOver.push(requestSlot);
    }
  }

  /**
   * A body that has not arrived BODY_TIMEOUT_MS after its headers is answered 408 and its
   * connection closed; one that never comes after an early answer (a 401 sent before reading
   * it) closes its connection. Twilio sends its body with its headers.
   */
  private watchBody(req: IncomingMessage, res: ServerResponse): void {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody) return;
    const deadline = setTimeout(() => {
      if (req.socket.destroyed) return;
      if (res.headersSent) {
        req.socket.destroy();
        return;
      }
      res.setHeader('Connection', 'close');
      res.once('finish', () => req.socket.destroy());
      answerRequestFailure(res, new RequestTimeout('The request body was not received in time'), this.options.logger);
    }, this.options.bodyTimeoutMs);
    deadline.unref(); // a stopped service waits for none of these
    const stop = () => clearTimeout(deadline);
    req.once('end', stop);
    // Answered with the whole body received (read or not): the connection may serve the next request.
    res.once('close', () => {
      if (req.complete) stop();
    });
  }

  private take(address: string | undefined, connection: boolean): Limit | undefined {
    if (connection && this.unauthenticated >= this.options.maxUnauthenticated) return 'in_all';
    if (address !== undefined && (this.byAddress.get(address) ?? 0) >= this.options.maxUnauthenticatedPerAddress) return 'per_address';
    if (connection) this.unauthenticated += 1;
    if (address !== undefined) this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1);
    return undefined;
  }

  private give(address: string | undefined, connection: boolean): void {
    if (connection) this.unauthenticated -= 1;
    if (address === undefined) return;
    const left = (this.byAddress.get(address) ?? 1) - 1;
    if (left > 0) this.byAddress.set(address, left);
    else this.byAddress.delete(address);
  }

  /** Counted in a metric; logged at most once every ten seconds, whatever the flood. */
  private refuse(limit: Limit): void {
    this.options.metrics.unauthenticatedRefused(limit);
    this.refusedSinceWarning += 1;
    const now = Date.now();
    if (now - this.lastWarningAt < REFUSAL_WARNING_INTERVAL_MS) return;
    this.options.logger.warn('refusing connections: too many have not authenticated', {
      refused: this.refusedSinceWarning,
      unauthenticated: this.unauthenticated,
      limit,
    });
    this.lastWarningAt = now;
    this.refusedSinceWarning = 0;
  }
}

const refusalMessage = 'Too many connections that have not authenticated, from this address or in all; retry in a moment';

function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    action();
  };
}

/** An answer written straight to a socket that never became a request. */
function rawAnswer(failure: TooManyConnections): string {
  const { httpStatus, body } = answerFailure(failure, { method: 'charge' }).answer;
  return [
    `HTTP/1.1 ${httpStatus} ${STATUS_CODES[httpStatus]}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `Retry-After: ${failure.retryAfterSeconds}`,
    `X-Request-Id: ${randomUUID()}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

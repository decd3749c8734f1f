import { Agent, errors } from 'undici';
import { GatewayBadResponse, GatewayNoResponse, GatewayTimeout, GatewayUnreachable } from '../errors';
import type { GatewayHttpAnswer } from '../mapping/gateway-answer';
import type { GatewayRequest } from '../mapping/compile';
import { reveal } from '../redaction/secret';

export interface GatewayClient {
  /** Sends a mapped request. Transport failures come back as the service's own errors, never undici's. */
  send(url: string, request: GatewayRequest): Promise<GatewayHttpAnswer>;
  /** Closes every connection once the requests in flight have ended (each within its deadline). */
  close(): Promise<void>;
}

export interface GatewayClientOptions {
  /** One deadline for the whole exchange: connection, TLS handshake, request and the whole answer. */
  timeoutMs: number;
  /**
   * undici's own timers, each for one phase. By default they sit within the deadline (connection:
   * half of it, at most 10 s; answer head and answer body: the deadline itself, a backstop that the
   * deadline, started first, always beats). Tests shorten them to meet each error they cause.
   */
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
}

/** No gateway answer needs more; a larger one is treated as malformed. */
export const MAX_ANSWER_BYTES = 1024 * 1024;
/** Connections per gateway origin (as maxSockets was with axios's http agents). */
const CONNECTIONS_PER_ORIGIN = 256;
const CONNECT_TIMEOUT_CAP_MS = 10_000;

/**
 * The gateway client: undici directly, no axios in between. One undici Agent holds one keep-alive
 * Pool per gateway origin. What axios did here is undici's default or an option of its own:
 * - redirects are never followed (undici follows none unless a redirect interceptor is composed
 *   in, and none is): a 3xx is an answer;
 * - answers over 1 MB are cut at the socket (`maxResponseSize`), before they are buffered;
 * - no proxy is taken from the environment (only undici's EnvHttpProxyAgent reads HTTP_PROXY; this
 *   Agent connects straight to the origin);
 * - TLS 1.2 at least, certificates verified (the connector's `tls.connect` options);
 * - nothing is retried: a POST that may have reached the gateway is never sent twice.
 */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const agent = new Agent({
    connections: CONNECTIONS_PER_ORIGIN,
    connect: { minVersion: 'TLSv1.2', rejectUnauthorized: true },
    connectTimeout: options.connectTimeoutMs ?? Math.min(CONNECT_TIMEOUT_CAP_MS, Math.ceil(options.timeoutMs / 2)),
    headersTimeout: options.headersTimeoutMs ?? options.timeoutMs,
    bodyTimeout: options.bodyTimeoutMs ?? options.timeoutMs,
    maxResponseSize: MAX_ANSWER_BYTES,
  });
  // Endpoints come from the configuration: a handful, parsed once each.
  const targets = new Map<string, { origin: string; path: string }>();
  const targetOf = (url: string) => {
    let target = targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      targets.set(url, target);
    }
    return target;
  };

  let closing: Promise<void> | undefined;

  return {
    async send(url, request) {
      const { contentType, body } = encodeGatewayRequest(request);
      // One deadline for the whole exchange. A cleared timer, not AbortSignal.timeout(): that one
      // would keep every request's closures alive for the full deadline after it is answered.
      const deadline = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        deadline.abort(new errors.RequestAbortedError('The gateway deadline passed'));
      }, options.timeoutMs);
      try {
        const { origin, path } = targetOf(url);
        const answer = await agent.request({
          origin,
          path,
          method: request.method,
          headers: { ...revealHeaders(request.headers), 'Content-Type': contentType, Accept: 'application/json, */*' },
          body,
          signal: deadline.signal,
        });
        return { status: answer.statusCode, body: await answer.body.text() };
      } catch (error) {
        throw transportError(error, timedOut);
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      closing ??= agent.close();
      return closing;
    },
  };
}

/** The wire body of a mapped request: form fields in order, or JSON where dotted names nest. */
export function encodeGatewayRequest(request: GatewayRequest): { contentType: string; body: string } {
  if (request.encoding === 'form') {
    const form = new URLSearchParams();
    for (const [name, value] of request.fields) form.append(name, reveal(value));
    return { contentType: 'application/x-www-form-urlencoded', body: form.toString() };
  }
  const root: Record<string, unknown> = {};
  for (const [name, value] of request.fields) {
    const path = name.split('.');
    let node = root;
    for (const key of path.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = reveal(value);
  }
  return { contentType: 'application/json', body: JSON.stringify(root) };
}

function revealHeaders(headers: GatewayRequest['headers']): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, reveal(value)]));
}

const unreachable = () => new GatewayUnreachable('The gateway could not be reached; nothing was sent');
const timeout = () => new GatewayTimeout('The gateway did not answer in time; the outcome is unknown');
const unreadable = () => new GatewayBadResponse('The gateway answer could not be read');
const broken = () => new GatewayNoResponse('The connection to the gateway broke before an answer; the outcome is unknown');

/**
 * undici's own error codes, each mapped on purpose (test/gateway/undici-errors.test.ts meets every
 * one). A code not listed here, or no code, falls to GATEWAY_NO_RESPONSE: outcome unknown, the
 * answer that never claims more than is known.
 */
export const UNDICI_ERRORS: ReadonlyMap<string, () => Error> = new Map(Object.entries({
  // The TCP connection or the TLS handshake did not complete in time: no request byte was written.
  UND_ERR_CONNECT_TIMEOUT: unreachable,
  // undici refused the request before dispatching it (a header value HTTP cannot carry, say).
  UND_ERR_INVALID_ARG: unreachable,
  // The client is closing, or closed (the service is stopping): the request was refused before it
  // was dispatched. (close() destroys the pools only once their requests have ended, so a request
  // in flight never meets UND_ERR_DESTROYED.)
  UND_ERR_CLOSED: unreachable,
  UND_ERR_DESTROYED: unreachable,
  // Sent, and no answer head in time; or the answer's body stalled.
  UND_ERR_HEADERS_TIMEOUT: timeout,
  UND_ERR_BODY_TIMEOUT: timeout,
  // The deadline's abort: the only abort this client makes.
  UND_ERR_ABORTED: timeout,
  // The connection closed after the request was written and before the answer was complete.
  UND_ERR_SOCKET: broken,
  // An answer came, but cannot be trusted: over 1 MB, shorter than its Content-Length, headers
  // beyond undici's limit. (HTTP parser errors, HPE_*, are matched below.)
  UND_ERR_RES_EXCEEDED_MAX_SIZE: unreadable,
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: unreadable,
  UND_ERR_HEADERS_OVERFLOW: unreadable,
}));

// The operating system's errors that mean the request never left: nothing can have been charged.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
// A refused TLS handshake (certificate not trusted, expired or for another name; TLS below 1.2)
// ends before the request is written: nothing was sent either.
const TLS_REFUSED = /^(ERR_SSL_|ERR_TLS_CERT_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_(GET|VERIFY|DECRYPT)_|HOSTNAME_MISMATCH$|INVALID_CA$)/;

/**
 * undici's errors and the socket's can quote what they failed on (an HTTP parser error keeps the
 * answer's bytes): only a new error of ours leaves here, with no cause attached.
 */
function transportError(error: unknown, timedOut: boolean): Error {
  // Past the deadline, whatever broke broke because of it.
  if (timedOut) return timeout();
  const code = codeOf(error);
  if (code === undefined) return broken();
  const mapped = UNDICI_ERRORS.get(code);
  if (mapped) return mapped();
  if (NOT_SENT.has(code) || TLS_REFUSED.test(code) || protocolVersionRefused(code, error)) return unreachable();
  // The gateway's answer does not parse as HTTP/1.1 (undici's HTTPParserError): sent, answered, unreadable.
  if (code.startsWith('HPE_')) return unreadable();
  return broken();
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** EPROTO carrying a TLS version alert: the handshake failed, before any request byte. */
function protocolVersionRefused(code: string, error: unknown): boolean {
  const message = (error as Error).message ?? '';
  return code === 'EPROTO' && /protocol version|unsupported protocol|wrong version number/i.test(message);
}

import http from 'node:http';
import https from 'node:https';
import axios, { AxiosError, type AxiosInstance } from 'axios';
import { GatewayBadResponse, GatewayNoResponse, GatewayTimeout, GatewayUnreachable } from '../errors';
import type { GatewayHttpAnswer } from '../mapping/gateway-answer';
import type { GatewayRequest } from '../mapping/compile';
import { reveal } from '../redaction/secret';

export interface GatewayClient {
  /** Sends a mapped request. Transport failures come back as the service's own errors, never axios's. */
  send(url: string, request: GatewayRequest): Promise<GatewayHttpAnswer>;
  close(): void;
}

/** No gateway answer needs more; a larger one is treated as malformed. */
const MAX_ANSWER_BYTES = 1024 * 1024;

// Errors that mean the request never left: nothing can have been charged.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
// A refused TLS handshake (certificate not trusted, expired or for another name; TLS below 1.2)
// ends before the request is written: nothing was sent either.
const TLS_REFUSED = /^(ERR_SSL_|ERR_TLS_CERT_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_(GET|VERIFY|DECRYPT)_|HOSTNAME_MISMATCH$|INVALID_CA$)/;
const TIMED_OUT = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ERR_CANCELED']);
const TOO_LARGE = new Set(['ERR_FR_MAX_CONTENT_LENGTH_EXCEEDED', 'ERR_BAD_RESPONSE']);

export function createGatewayClient(options: { timeoutMs: number }): GatewayClient {
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 256, minVersion: 'TLSv1.2' });
  const client: AxiosInstance = axios.create({
    httpAgent,
    httpsAgent,
    // A redirect could carry card data to another host: it is an answer, never followed.
    maxRedirects: 0,
    maxContentLength: MAX_ANSWER_BYTES,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    proxy: false,
  });

  return {
    async send(url, request) {
      const { contentType, body } = encodeGatewayRequest(request);
      // One deadline for the whole exchange. A cleared timer, not AbortSignal.timeout(): that one
      // would keep every request's closures alive for the full deadline after it is answered.
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
      try {
        const response = await client.request<string>({
          url,
          method: request.method,
          headers: { ...revealHeaders(request.headers), 'Content-Type': contentType, Accept: 'application/json, */*' },
          data: body,
          signal: deadline.signal,
        });
        return { status: response.status, body: typeof response.data === 'string' ? response.data : '' };
      } catch (error) {
        throw transportError(error);
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
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

/** axios errors carry the request, card data included: only a new error of ours leaves here. */
function transportError(error: unknown) {
  const code = error instanceof AxiosError ? (error.code ?? (error.cause as NodeJS.ErrnoException | undefined)?.code) : undefined;
  if (code && (NOT_SENT.has(code) || TLS_REFUSED.test(code) || protocolVersionRefused(code, error))) {
    return new GatewayUnreachable('The gateway could not be reached; nothing was sent');
  }
  if (code && TIMED_OUT.has(code)) return new GatewayTimeout('The gateway did not answer in time; the outcome is unknown');
  if (code && TOO_LARGE.has(code)) return new GatewayBadResponse('The gateway answer could not be read');
  return new GatewayNoResponse('The connection to the gateway broke before an answer; the outcome is unknown');
}

/** EPROTO carrying a TLS version alert: the handshake failed, before any request byte. */
function protocolVersionRefused(code: string, error: unknown): boolean {
  const message = (error as Error).message ?? '';
  return code === 'EPROTO' && /protocol version|unsupported protocol|wrong version number/i.test(message);
}

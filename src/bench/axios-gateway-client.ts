import http from 'node:http';
import https from 'node:https';
import axios, { AxiosError, type AxiosInstance } from 'axios';
import { GatewayBadResponse, GatewayNoResponse, GatewayTimeout, GatewayUnreachable } from '../errors';
import { encodeGatewayRequest, MAX_ANSWER_BYTES, type GatewayClient, type GatewayClientOptions } from '../gateway/gateway-client';
import type { GatewayRequest } from '../mapping/compile';
import { reveal } from '../redaction/secret';

/**
 * The gateway client as it was before undici (issue #17): axios with its default http adapter and
 * keep-alive http/https agents. Kept for one purpose, `npm run bench`, which runs the service with
 * it (bench/service-axios-http.ts) beside the service as shipped, in the same interleaved run. A
 * developer tool: the image does not contain it, and the service never loads it.
 */

// Errors that mean the request never left: nothing can have been charged.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
// A refused TLS handshake (certificate not trusted, expired or for another name; TLS below 1.2)
// ends before the request is written: nothing was sent either.
const TLS_REFUSED = /^(ERR_SSL_|ERR_TLS_CERT_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_(GET|VERIFY|DECRYPT)_|HOSTNAME_MISMATCH$|INVALID_CA$)/;
const TIMED_OUT = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ERR_CANCELED']);
const TOO_LARGE = new Set(['ERR_FR_MAX_CONTENT_LENGTH_EXCEEDED', 'ERR_BAD_RESPONSE']);

export function createAxiosGatewayClient(options: GatewayClientOptions): GatewayClient {
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
    async close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
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

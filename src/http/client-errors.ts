import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { answerFailure } from '../contract/connector-answer';
import { HeadersTooLarge, MalformedRequest, RequestTimeout, type BridgeError } from '../errors';
import type { Logger } from '../logging/logger';

/**
 * Requests Node refuses before Express sees them (a bad request line, headers over 16 KB, a
 * client too slow to send its request) get the contract's JSON shape and a request id like
 * every other answer, instead of Node's bare status line. The socket is closed after it.
 */
export function answerClientErrors(logger: Logger): (error: NodeJS.ErrnoException, socket: Duplex) => void {
  return (error, socket) => {
    const failure = failureOf(error);
    // A response the app has begun is the app's to finish; only an untouched socket is answered here.
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
    if (failure && socket.writable && !inFlight?.headersSent) {
      const requestId = String(inFlight?.getHeader('x-request-id') ?? randomUUID());
      const { httpStatus, body } = answerFailure(failure, { method: 'charge' }).answer;
      socket.end(
        [
          `HTTP/1.1 ${httpStatus} ${STATUS_CODES[httpStatus]}`,
          'Content-Type: application/json; charset=utf-8',
          `Content-Length: ${Buffer.byteLength(body)}`,
          `X-Request-Id: ${requestId}`,
          'Connection: close',
          '',
          body,
        ].join('\r\n'),
      );
      if (!inFlight) logger.info('request', { request_id: requestId, route: 'unparsed', status: httpStatus, error_code: failure.code });
    }
    socket.destroy();
  };
}

function failureOf(error: NodeJS.ErrnoException): BridgeError | undefined {
  switch (error.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined; // the client is gone: nobody to answer
    case 'HPE_HEADER_OVERFLOW':
      return new HeadersTooLarge('The request headers are larger than the service accepts');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT':
      return new RequestTimeout('The request was not received in time');
    default:
      return new MalformedRequest('The HTTP request could not be parsed');
  }
}

import type { ErrorRequestHandler, Response } from 'express';
import { failedAnswer } from '../connector/answer';
import {
  BridgeError,
  InternalError,
  MalformedBody,
  PayloadTooLarge,
  PaymentFailure,
  Unauthorized,
  UnsupportedEncoding,
} from '../errors';
import { describeUnexpected, type Logger } from '../logging/logger';
import { contextOf } from './request-context';

/**
 * The one place where a failure becomes an answer: the connector's JSON shape,
 * with the status and stable error code of the BridgeError. Anything else is a
 * bug, answered 500 INTERNAL_ERROR and logged without its message.
 */
export function answerErrors(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const failure = asBridgeError(error);
    const context = contextOf(res);
    if (failure instanceof InternalError) {
      logger.error('unexpected error', { request_id: context.requestId, ...describeUnexpected(error) });
    }
    context.outcome = failure instanceof PaymentFailure ? 'error' : 'rejected';
    context.errorCode = failure.code;
    sendFailure(res, failure);
  };
}

export function sendFailure(res: Response, failure: BridgeError): void {
  if (res.headersSent) return;
  if (failure instanceof Unauthorized) res.setHeader('WWW-Authenticate', 'Basic realm="pay-connector", charset="UTF-8"');
  const method = contextOf(res).payMethod ?? 'charge';
  res.status(failure.httpStatus).json(failedAnswer(method, failure.code, failure.message));
}

/** Errors from body-parser come with a `type`; everything unknown is internal. */
function asBridgeError(error: unknown): BridgeError {
  if (error instanceof BridgeError) return error;
  const type = (error as { type?: unknown } | null)?.type;
  switch (type) {
    case 'entity.too.large':
      return new PayloadTooLarge('The body is larger than the service accepts');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new UnsupportedEncoding('The body charset or content encoding is not supported');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'entity.verify.failed':
    case 'stream.encoding.set':
      return new MalformedBody('The body could not be read');
    default:
      return new InternalError('The service failed unexpectedly; the request was not sent to the gateway');
  }
}

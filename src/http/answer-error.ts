import type { ErrorRequestHandler, Response } from 'express';
import { failureAnswer, type WireAnswer } from '../contract/connector-answer';
import {
  BridgeError,
  InternalError,
  MalformedBody,
  NotFound,
  PayloadTooLarge,
  PaymentFailure,
  Unauthorized,
  UnsupportedEncoding,
} from '../errors';
import { describeUnexpected, type Logger } from '../logging/logger';
import { contextOf, markAnswered } from './request-context';

/**
 * Errors that reach Express become the connector's answer here, through the one
 * error-to-answer function (failureAnswer). Anything that is not a BridgeError is
 * a bug: answered 500 INTERNAL_ERROR and logged without its message.
 */
export function answerErrors(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => answerFailure(res, error, logger);
}

/**
 * Answers a failure, from the error middleware or from outside the middleware chain (a body
 * deadline). A request already answered keeps its answer and its log line's outcome.
 */
export function answerFailure(res: Response, error: unknown, logger: Logger): void {
  const failure = asBridgeError(error);
  const context = contextOf(res);
  if (failure instanceof InternalError) {
    logger.error('unexpected error', { request_id: context.requestId, ...describeUnexpected(error) });
  }
  if (res.headersSent) return;
  context.outcome = failure instanceof PaymentFailure ? 'error' : 'rejected';
  context.errorCode = failure.code;
  if (failure.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(failure.retryAfterSeconds));
  if (context.bearerRealm) {
    // Not a connector endpoint: no charge_id, and a Bearer challenge.
    if (failure instanceof Unauthorized) res.setHeader('WWW-Authenticate', `Bearer realm="${context.bearerRealm}"`);
    markAnswered(context, failure.httpStatus);
    res.status(failure.httpStatus).json({ error_code: failure.code, error_message: failure.message });
    return;
  }
  sendAnswer(res, failureAnswer(context.payMethod ?? 'charge', failure));
}

/** Sends an answer exactly as built (or as the journal kept it). */
export function sendAnswer(res: Response, answer: WireAnswer): void {
  markAnswered(contextOf(res), answer.httpStatus);
  if (res.headersSent) return;
  if (answer.httpStatus === 401) res.setHeader('WWW-Authenticate', 'Basic realm="pay-connector", charset="UTF-8"');
  res.status(answer.httpStatus).type('application/json').send(answer.body);
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
      return fromClientStatus(error) ?? new InternalError('The service failed unexpectedly; the request was not sent to the gateway');
  }
}

/**
 * The request was at fault but the error has no known `type`: a path escape the router
 * cannot decode, a body whose gzip/deflate/br data is corrupt (http-errors with a 4xx status).
 */
function fromClientStatus(error: unknown): BridgeError | undefined {
  if (error instanceof URIError) return new NotFound('No such path; POST / or /connectors/{name}');
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  if (status === 413) return new PayloadTooLarge('The body is larger than the service accepts');
  if (status === 415) return new UnsupportedEncoding('The body charset or content encoding is not supported');
  return new MalformedBody('The body could not be read');
}

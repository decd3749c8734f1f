import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler } from 'express';
import { answerFailure, type WireAnswer } from '../contract/connector-answer';
import { BridgeError, MalformedBody, NotFound, PayloadTooLarge, Unauthorized, UnsupportedEncoding } from '../errors';
import type { Logger } from '../logging/logger';
import { contextOf, markAnswered } from './request-context';

/** Errors that reach Express become the connector's answer here (answerRequestFailure). */
export function answerErrors(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => answerRequestFailure(res, error, logger);
}

/**
 * Answers a failure, from the error middleware or from outside the middleware chain (a body
 * deadline), through the contract's one failure-to-answer function. A request already answered
 * keeps its answer and its log line's outcome.
 */
export function answerRequestFailure(res: ServerResponse, error: unknown, logger: Logger): void {
  const context = contextOf(res);
  const { failure, answer, outcome } = answerFailure(fromLibrary(error) ?? error, { method: context.payMethod ?? 'charge', logger, requestId: context.requestId });
  if (res.headersSent) return;
  context.outcome = outcome;
  context.errorCode = failure.code;
  if (failure.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(failure.retryAfterSeconds));
  if (context.bearerRealm) {
    // Not a connector endpoint: no charge_id, and a Bearer challenge.
    if (failure instanceof Unauthorized) res.setHeader('WWW-Authenticate', `Bearer realm="${context.bearerRealm}"`);
    markAnswered(context, failure.httpStatus);
    writeJson(res, failure.httpStatus, JSON.stringify({ error_code: failure.code, error_message: failure.message }));
    return;
  }
  sendAnswer(res, answer);
}

/** Sends an answer exactly as built (or as the journal kept it). */
export function sendAnswer(res: ServerResponse, answer: WireAnswer): void {
  markAnswered(contextOf(res), answer.httpStatus);
  if (res.headersSent) return;
  if (answer.httpStatus === 401) res.setHeader('WWW-Authenticate', 'Basic realm="pay-connector", charset="UTF-8"');
  writeJson(res, answer.httpStatus, answer.body);
}

/** What Express's `res.status().json()` writes, with node's own calls: the connector endpoint has no Express response. */
function writeJson(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * What a library's error means for the request: body-parser's come with a `type`; a path escape
 * the router cannot decode is a URIError; a corrupt gzip/deflate/br body is an http-error with a
 * 4xx status. Undefined for anything else (a bug, for answerFailure).
 */
export function fromLibrary(error: unknown): BridgeError | undefined {
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
  }
  if (error instanceof URIError) return new NotFound('No such path; POST / or /connectors/{name}');
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  if (status === 413) return new PayloadTooLarge('The body is larger than the service accepts');
  if (status === 415) return new UnsupportedEncoding('The body charset or content encoding is not supported');
  return new MalformedBody('The body could not be read');
}

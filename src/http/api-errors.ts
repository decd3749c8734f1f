import type { Response } from 'express';
import { answerFailure } from '../contract/connector-answer';
import { InsufficientScope, Unauthorized } from '../errors';
import type { Logger } from '../logging/logger';
import { fromLibrary } from './answer-error';
import { contextOf, markAnswered } from './request-context';

/**
 * The session API's failures: `{"error": {"code", "message"}}` with the error's status, a Bearer
 * challenge on 401 and 403, Retry-After when there is one. The failure itself (and the log line
 * of a bug) comes from the one failure-to-answer function, as for the connector's answers.
 */
export function answerApiFailure(res: Response, error: unknown, logger: Logger): void {
  const context = contextOf(res);
  const { failure, outcome } = answerFailure(fromLibrary(error) ?? error, { method: 'charge', logger, requestId: context.requestId });
  if (res.headersSent) return;
  context.outcome = outcome;
  context.errorCode = failure.code;
  if (failure.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(failure.retryAfterSeconds));
  if (failure instanceof Unauthorized) res.setHeader('WWW-Authenticate', 'Bearer realm="sessions", error="invalid_token"');
  if (failure instanceof InsufficientScope) res.setHeader('WWW-Authenticate', 'Bearer realm="sessions", error="insufficient_scope"');
  markAnswered(context, failure.httpStatus);
  res.status(failure.httpStatus).json({ error: { code: failure.code, message: failure.message } });
}

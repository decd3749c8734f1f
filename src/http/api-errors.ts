import type { Response } from 'express';
import { answerFailure } from '../contract/connector-answer';
import type { Logger } from '../logging/logger';
import { fromLibrary } from './answer-error';
import { contextOf, markAnswered } from './request-context';
import { sessionApiErrorAnswer } from './session-api-error';

/**
 * The session API's failures, from its routes' error handlers: the failure itself (and the log
 * line of a bug) from the one failure-to-answer function, in the session API's shape
 * (sessionApiErrorAnswer: `{"error": {"code", "message"}}`, its status and challenge).
 */
export function answerApiFailure(res: Response, error: unknown, logger: Logger): void {
  const context = contextOf(res);
  const { failure, outcome } = answerFailure(fromLibrary(error) ?? error, { method: 'charge', logger, requestId: context.requestId });
  if (res.headersSent) return;
  context.outcome = outcome;
  context.errorCode = failure.code;
  const answer = sessionApiErrorAnswer(failure);
  markAnswered(context, answer.status);
  res.status(answer.status).set(answer.headers).json(answer.body);
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../observability/metrics';
import { startContext, type RequestContext } from './request-context';

/**
 * One structured line per request, and its metrics, when the request is over: when
 * the answer has gone out or, for a payment whose client went away first (Twilio
 * gives up after 10 s), when the payment has ended and its answer is built.
 */
export function requestLog(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    openRequestLog(req, res, req.ip, logger, metrics);
    next();
  };
}

/** Starts a request's context and arranges its log line: for Express's routes and the connector endpoint alike. */
export function openRequestLog(req: IncomingMessage, res: ServerResponse, peerAddress: string | undefined, logger: Logger, metrics: Metrics): RequestContext {
  const context = startContext(req, res, peerAddress);
  metrics.requestStarted();
  const finish = () => {
    const status = context.answerStatus ?? res.statusCode;
    for (const over of context.whenOver) over(status);
    metrics.requestFinished(context, status);
    logger.info(context.connector ? 'payment' : 'request', {
      request_id: context.requestId,
      http_method: req.method,
      route: context.route ?? 'unmatched',
      status,
      connector: context.connector,
      method: context.payMethod,
      tender: context.tender,
      transaction_id: context.transactionId,
      card_brand: context.cardBrand,
      last4: context.last4,
      amount: context.amount,
      currency: context.currency,
      outcome: context.outcome,
      arrival: context.arrival,
      error_code: context.errorCode,
      gateway_ms: context.gatewayMs,
      client_gone: context.clientGone,
      total_ms: Math.round(performance.now() - context.startedAt),
    });
  };
  res.on('close', () => {
    if (res.writableFinished || context.answerStatus !== undefined || !context.connector) return finish();
    context.clientGone = true;
    context.onAnswered = finish;
  });
  return context;
}

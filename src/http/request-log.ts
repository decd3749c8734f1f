import type { RequestHandler } from 'express';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../observability/metrics';
import { contextOf, startContext } from './request-context';

/**
 * One structured line per request, and its metrics, when the request is over: when
 * the answer has gone out or, for a payment whose client went away first (Twilio
 * gives up after 10 s), when the payment has ended and its answer is built.
 */
export function requestLog(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const context = startContext(req, res);
    metrics.requestStarted();
    const finish = () => {
      const line = contextOf(res);
      const status = line.answerStatus ?? res.statusCode;
      for (const over of line.whenOver) over(status);
      metrics.requestFinished(line, status);
      logger.info(line.connector ? 'payment' : 'request', {
        request_id: line.requestId,
        http_method: req.method,
        route: line.route ?? 'unmatched',
        status,
        connector: line.connector,
        method: line.payMethod,
        tender: line.tender,
        transaction_id: line.transactionId,
        card_brand: line.cardBrand,
        last4: line.last4,
        amount: line.amount,
        currency: line.currency,
        outcome: line.outcome,
        arrival: line.arrival,
        error_code: line.errorCode,
        gateway_ms: line.gatewayMs,
        client_gone: line.clientGone,
        total_ms: Math.round(performance.now() - context.startedAt),
      });
    };
    res.on('close', () => {
      if (res.writableFinished || context.answerStatus !== undefined || !context.connector) return finish();
      context.clientGone = true;
      context.onAnswered = finish;
    });
    next();
  };
}

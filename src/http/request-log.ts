import type { RequestHandler } from 'express';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../observability/metrics';
import { contextOf, startContext } from './request-context';

/** One structured line per request, and its metrics, when the answer has gone out. */
export function requestLog(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const context = startContext(req, res);
    metrics.requestStarted();
    res.on('close', () => {
      const line = contextOf(res);
      metrics.requestFinished(line, res.statusCode);
      logger.info(line.connector ? 'payment' : 'request', {
        request_id: line.requestId,
        http_method: req.method,
        route: line.route ?? 'unmatched',
        status: res.statusCode,
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
        total_ms: Math.round(performance.now() - context.startedAt),
      });
    });
    next();
  };
}

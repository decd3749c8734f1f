import { Router, type Request, type RequestHandler, type Response } from 'express';
import express from 'express';
import type { PaymentMethod } from '../connector/payment-request';
import { REQUEST_LIMITS } from '../connector/schema';
import { MethodNotAllowed } from '../errors';
import type { ConnectorCatalog } from '../mapping/connectors';
import { takePayment, type PaymentDependencies } from '../payments/take-payment';
import { sendAnswer } from './answer-error';
import { authFailureThrottle } from './auth-throttle';
import { readCredentials } from './credentials';
import { parseJsonObject } from './json-body';
import { contextOf } from './request-context';

/**
 * POST /, /charge, /tokenize serve the default connector;
 * POST /connectors/{name}[/charge|/tokenize] serve a named one. The legacy
 * suffixes set `method` when the body has none.
 */
export function connectorRoutes(
  catalog: ConnectorCatalog,
  deps: PaymentDependencies,
  options: { allowedAccounts?: ReadonlySet<string>; bodyLimitBytes: number },
): Router {
  const router = Router();
  // Every Content-Type is read as text, then parsed as JSON: Twilio has sent none.
  const readBodyAsText = express.text({ type: () => true, limit: options.bodyLimitBytes });
  const throttle = authFailureThrottle();

  const pay =
    (route: string, methodFromPath?: PaymentMethod): RequestHandler =>
    async (req: Request, res: Response) => {
      const context = contextOf(res);
      context.route = route;
      if (methodFromPath) context.payMethod = methodFromPath;
      const connector = catalog.get(req.params.name as string | undefined);
      context.connector = connector.name;

      const body = parseJsonObject(req.body);
      req.body = undefined; // the raw text holds clear card data; only the protected object travels on
      if (typeof body.method === 'string' && (body.method === 'charge' || body.method === 'tokenize')) context.payMethod = body.method;
      // Known before the credentials are checked, so that a refused request's log line names it too.
      if (typeof body.transaction_id === 'string' && body.transaction_id.length <= REQUEST_LIMITS.transactionIdChars) {
        context.transactionId = body.transaction_id;
      }
      const credentials = readCredentials(req, connector, options.allowedAccounts);
      sendAnswer(res, await takePayment(deps, { connector, credentials, body, methodFromPath }, context));
    };

  const onlyPost: RequestHandler = (_req, res) => {
    res.setHeader('Allow', 'POST');
    throw new MethodNotAllowed('Only POST is served here');
  };

  for (const [path, method] of [
    ['', undefined],
    ['/charge', 'charge'],
    ['/tokenize', 'tokenize'],
  ] as const) {
    router.route(path || '/').post(throttle, readBodyAsText, pay(path || '/', method)).all(onlyPost);
    router
      .route(`/connectors/:name${path}`)
      .post(throttle, readBodyAsText, pay(`/connectors/:name${path}`, method))
      .all(onlyPost);
  }
  return router;
}

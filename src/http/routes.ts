import { Router, type Request, type RequestHandler, type Response } from 'express';
import express from 'express';
import type { PaymentMethod } from '../contract/payment-request';
import { MethodNotAllowed } from '../errors';
import { takePayment, type PaymentDependencies, type PaymentOutcome } from '../payments/take-payment';
import { sendAnswer } from './answer-error';
import { basicAuthentication, payerOf, type BasicAuthenticationOptions } from './basic-authentication';
import { parseJsonObject } from './json-body';
import { contextOf, type RequestContext } from './request-context';

/**
 * POST /, /charge, /tokenize serve the default connector;
 * POST /connectors/{name}[/charge|/tokenize] serve a named one. The legacy
 * suffixes set `method` when the body has none.
 */
export function connectorRoutes(
  deps: PaymentDependencies,
  options: BasicAuthenticationOptions & { bodyLimitBytes: number },
): Router {
  const router = Router();
  // Every Content-Type is read as text, then parsed as JSON: Twilio has sent none.
  const readBodyAsText = express.text({ type: () => true, limit: options.bodyLimitBytes });
  // The credentials are checked before the body is read: a request that fails them holds nothing.
  const authenticate = basicAuthentication(options);

  const named =
    (route: string, methodFromPath?: PaymentMethod): RequestHandler =>
    (_req, res, next) => {
      const context = contextOf(res);
      context.route = route;
      if (methodFromPath) context.payMethod = methodFromPath;
      next();
    };

  const pay =
    (methodFromPath?: PaymentMethod): RequestHandler =>
    async (req: Request, res: Response) => {
      const context = contextOf(res);
      const body = parseJsonObject(req.body);
      req.body = undefined; // the raw text holds clear card data; only the protected object travels on
      const outcome = await takePayment(deps, { ...payerOf(res), body, methodFromPath, requestId: context.requestId });
      describeOutcome(context, outcome);
      sendAnswer(res, outcome.answer);
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
    for (const route of [path || '/', `/connectors/:name${path}`]) {
      router.route(route).post(named(route, method), authenticate, readBodyAsText, pay(method)).all(onlyPost);
    }
  }
  return router;
}

/** The request's log line and metrics tell what the pipeline says became of the payment. */
function describeOutcome(context: RequestContext, outcome: PaymentOutcome): void {
  Object.assign(context, {
    payMethod: outcome.method ?? context.payMethod,
    tender: outcome.tender,
    transactionId: outcome.transactionId,
    cardBrand: outcome.cardBrand,
    last4: outcome.last4,
    amount: outcome.amount,
    currency: outcome.currency,
    outcome: outcome.outcome,
    errorCode: outcome.errorCode,
    arrival: outcome.arrival,
    journalStatus: outcome.journalStatus,
    gatewayMs: outcome.gatewayMs,
  } satisfies Partial<RequestContext>);
}

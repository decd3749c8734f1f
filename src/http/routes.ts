import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { Router, type RequestHandler } from 'express';
import parseUrl from 'parseurl';
import type { PaymentMethod } from '../contract/payment-request';
import { MethodNotAllowed, NotFound } from '../errors';
import { describeUnexpected, type Logger } from '../logging/logger';
import type { Metrics } from '../observability/metrics';
import { takePayment, type PaymentDependencies, type PaymentOutcome } from '../payments/take-payment';
import type { Admission } from './admission';
import { answerRequestFailure, sendAnswer } from './answer-error';
import { authenticatePayer, type BasicAuthenticationOptions } from './basic-authentication';
import { parseJsonObject } from './json-body';
import { openRequestLog } from './request-log';
import type { RequestContext } from './request-context';

/** The connector paths, as the OpenAPI document names them; `/charge` and `/tokenize` set `method` when the body has none. */
export const CONNECTOR_ROUTES = ['/', '/charge', '/tokenize', '/connectors/:name', '/connectors/:name/charge', '/connectors/:name/tokenize'] as const;

/**
 * Any of CONNECTOR_ROUTES, matched as Express matches its routes (any case, one trailing slash, so
 * `//` is `/`): the connector's name, and `charge` or `tokenize`.
 */
const CONNECTOR_PATH = /^(?:(?:\/connectors\/([^/]+))?(?:\/(charge|tokenize))?|\/)\/?$/i;

export interface ConnectorEndpointOptions extends BasicAuthenticationOptions {
  payments: PaymentDependencies;
  admission: Admission;
  bodyLimitBytes: number;
  /** The client's address as the proxy settings see it (Express's `req.ip`). */
  peerAddress(req: IncomingMessage): string | undefined;
  metrics: Metrics;
  logger: Logger;
}

/**
 * The payment route: a POST to a connector path is served here, on node:http itself, before
 * Express sees it. Measured on the 2-core machine, Express's request and response objects and
 * router cost about 130 µs of CPU per request, a third of a whole payment's; every check the
 * Express chain made is made here, in the same order and through the same functions (the
 * request log, admission, Basic auth, the body limit, the one failure-to-answer function), in
 * one straight line. Other methods on these paths get their 405 from Express (connectorPaths).
 *
 * Returns false for any other request, which is Express's to serve.
 */
export function connectorEndpoint(options: ConnectorEndpointOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { payments, admission, logger, metrics } = options;
  // Every Content-Type is read as text, then parsed as JSON: Twilio has sent none.
  const readBodyAsText = express.text({ type: () => true, limit: options.bodyLimitBytes });
  const readBody = (req: IncomingMessage, res: ServerResponse) =>
    new Promise<unknown>((resolve, reject) => {
      const request = req as IncomingMessage & { body?: unknown };
      void readBodyAsText(request as never, res as never, (error?: unknown) => {
        if (error) return reject(error);
        const text = request.body;
        request.body = undefined; // the raw text holds clear card data; only the protected object travels on
        resolve(text);
      });
    });

  /** One payment request, in one straight line; every failure is answered by the one failure-to-answer function. */
  const serve = async (req: IncomingMessage, res: ServerResponse, named: string | undefined, methodFromPath: PaymentMethod | undefined) => {
    const context = openRequestLog(req, res, options.peerAddress(req), logger, metrics);
    context.route = `${named === undefined ? '' : '/connectors/:name'}${methodFromPath ? `/${methodFromPath}` : ''}` || '/';
    if (methodFromPath) context.payMethod = methodFromPath;
    try {
      admission.admit(req, res, context);
      const payer = authenticatePayer(options, req, named === undefined ? undefined : decodeName(named), context);
      const body = parseJsonObject(await readBody(req, res));
      const outcome = await takePayment(payments, { ...payer, body, methodFromPath, requestId: context.requestId });
      describeOutcome(context, outcome);
      sendAnswer(res, outcome.answer);
    } catch (error) {
      answerRequestFailure(res, error, logger);
    }
  };

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const match = CONNECTOR_PATH.exec(parseUrl(req)?.pathname ?? '');
    if (!match) return false;
    if (admission.droppedRefused(req)) return true;
    const [, named, suffix] = match;
    serve(req, res, named, suffix?.toLowerCase() as PaymentMethod | undefined).catch((error: unknown) => {
      // Express's final handler stood here: a request that cannot even be answered costs its connection, not the process.
      logger.error('could not answer a payment request', describeUnexpected(error));
      res.destroy();
    });
    return true;
  };
}

/** Express's routes for the connector paths: only what the endpoint leaves them, a 405 for any other method. */
export function connectorPaths(): Router {
  const router = Router();
  const onlyPost: RequestHandler = (_req, res) => {
    res.setHeader('Allow', 'POST');
    throw new MethodNotAllowed('Only POST is served here');
  };
  for (const route of CONNECTOR_ROUTES) router.all(route, onlyPost);
  return router;
}

/** A connector name as Express decodes a path parameter; one that cannot be decoded names no connector. */
function decodeName(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new NotFound('No such path; POST / or /connectors/{name}');
  }
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

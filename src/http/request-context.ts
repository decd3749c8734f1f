import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { PaymentMethod, Tender } from '../contract/payment-request';
import type { Arrival } from '../store/idempotency';
import type { JournalStatus } from '../store/journal';
import { clientAddress } from './client-address';

/** What one request's log line says. Filled in as the request travels; never holds card data. */
export interface RequestContext {
  requestId: string;
  startedAt: number;
  route?: string;
  connector?: string;
  payMethod?: PaymentMethod;
  tender?: Tender;
  transactionId?: string;
  cardBrand?: string;
  /** Last 4 of the card, or last 2-4 of the bank account. */
  last4?: string;
  amount?: string;
  currency?: string;
  outcome?: 'approved' | 'declined' | 'error' | 'rejected';
  errorCode?: string;
  gatewayMs?: number;
  /** First request for its transaction_id, joined to a running one, or replayed from the journal. */
  arrival?: Arrival;
  /**
   * Set by routes that are not connector endpoints (reconciliation, metrics): their errors
   * are a plain `{error_code, error_message}` with a Bearer challenge of this realm.
   */
  bearerRealm?: string;
  /** How the journal recorded the payment this request made (first arrivals only). */
  journalStatus?: JournalStatus;
  /** The HTTP status of the answer, once built: also when the client has gone and cannot receive it. */
  answerStatus?: number;
  /** The client closed the connection before its answer was sent. */
  clientGone?: boolean;
  /** A session API route: failures are answered `{"error": {"code", "message"}}`. */
  apiErrors?: boolean;
  /** Called once the answer is built (see markAnswered). */
  onAnswered?: () => void;
  /** The address the client's limits are counted by (clientAddress). */
  clientAddress: string;
  /** Called when the request is over (answered, or its payment ended after its client went away). */
  whenOver: Array<(status: number) => void>;
  /** Releases what the request held while it had not authenticated (see Admission); set by it. */
  onAuthenticated?: () => void;
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function startContext(req: Request, res: Response): RequestContext {
  const given = req.get('x-request-id');
  const context: RequestContext = {
    requestId: given && SAFE_REQUEST_ID.test(given) ? given : randomUUID(),
    startedAt: performance.now(),
    clientAddress: clientAddress(req.ip),
    whenOver: [],
  };
  res.locals.context = context;
  res.setHeader('X-Request-Id', context.requestId);
  return context;
}

export function contextOf(res: Response): RequestContext {
  return res.locals.context as RequestContext;
}

/** Every connector answer passes here: the request's log line may be waiting for it. */
export function markAnswered(context: RequestContext, httpStatus: number): void {
  context.answerStatus = httpStatus;
  context.onAnswered?.();
  context.onAnswered = undefined;
}

/** The request has proven its credentials: it no longer counts against the unauthenticated limits. */
export function markAuthenticated(context: RequestContext): void {
  context.onAuthenticated?.();
  context.onAuthenticated = undefined;
}

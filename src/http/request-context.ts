import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
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

/**
 * Each request's context, by its response: node's own object, which Express's response is too,
 * so the connector endpoint (node:http) and the Express routes share it.
 */
const contexts = new WeakMap<ServerResponse, RequestContext>();

/** `peerAddress`: the client's address as the proxy settings see it (Express's `req.ip`). */
export function startContext(req: IncomingMessage, res: ServerResponse, peerAddress: string | undefined): RequestContext {
  const given = req.headers['x-request-id'];
  const context: RequestContext = {
    requestId: typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID(),
    startedAt: performance.now(),
    clientAddress: clientAddress(peerAddress),
    whenOver: [],
  };
  contexts.set(res, context);
  res.setHeader('X-Request-Id', context.requestId);
  return context;
}

export function contextOf(res: ServerResponse): RequestContext {
  return contexts.get(res)!;
}

/** The context of a request that may have failed before it had one. */
export function findContext(res: ServerResponse): RequestContext | undefined {
  return contexts.get(res);
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

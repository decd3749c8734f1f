import { createHash } from 'node:crypto';
import { answerFailure, approvedAnswer, declinedAnswer, type WireAnswer } from '../contract/connector-answer';
import { parsePaymentRequest, type PaymentMethod, type PaymentRequest, type Tender } from '../contract/payment-request';
import { connectorRequestSchema } from '../contract/request-schema';
import { BridgeError, GatewayBadResponse, GatewayNoResponse, GatewayRejected, GatewayTimeout, InternalError, UnsupportedPayment } from '../errors';
import type { GatewayClient } from '../gateway/gateway-client';
import type { Logger } from '../logging/logger';
import type { GatewayConnector } from '../mapping/connectors';
import { requestValues, secretsOf, type Credentials } from '../mapping/values';
import { Secret, scrubSecrets } from '../redaction/secret';
import type { Arrival, IdempotencyGate } from '../store/idempotency';
import type { JournalStatus, NewClaim, Settlement } from '../store/journal';
import type { GatewayAccount } from './gateway-account';

/** How much of a gateway answer a debug line shows. */
const DEBUG_BODY_CHARS = 2000;

export interface PaymentDependencies {
  gateway: GatewayClient;
  gate: IdempotencyGate;
  instanceId: string;
  logger: Logger;
}

/** One payment as a channel hands it over: the connector, who pays, and the request's fields. */
export interface PaymentInput {
  connector: GatewayConnector;
  credentials: Credentials;
  /** The gateway account the credentials name, and their keyed hash. */
  account: GatewayAccount;
  /** The request, with its card and bank fields already Secrets (contract/sensitive-fields.ts). */
  body: Record<string, unknown>;
  /** For the legacy /charge and /tokenize paths, when the body has no method. */
  methodFromPath?: PaymentMethod;
  /** Carried into the lines this payment logs, so they join the channel's own. */
  requestId: string;
}

/** What may be told of a payment: never a digit beyond the last 4, never a secret. */
export interface PaymentFacts {
  method?: PaymentMethod;
  tender?: Tender;
  transactionId?: string;
  cardBrand?: string;
  /** Last 4 of the card, or last 2-4 of the bank account. */
  last4?: string;
  amount?: string;
  currency?: string;
}

/** What became of one payment request, whichever way it ended. */
export interface PaymentOutcome extends PaymentFacts {
  answer: WireAnswer;
  /** `rejected`: refused before it could be a payment (credentials of a replay, for one). */
  outcome: 'approved' | 'declined' | 'error' | 'rejected';
  errorCode?: string;
  /** How it met its transaction_id; absent when it never got that far. */
  arrival?: Arrival;
  /** How the journal recorded the payment this request made (the first arrival only). */
  journalStatus?: JournalStatus;
  /** The gateway call's time, when this request made it. */
  gatewayMs?: number;
}

/**
 * One payment, start to end, for any channel: validate, claim the transaction_id, map, call the
 * gateway, translate, record, answer. A repeated transaction_id gets the first answer and never
 * reaches the gateway. Never throws: every failure, before or after the claim, is an outcome with
 * the contract's answer.
 */
export async function takePayment(deps: PaymentDependencies, input: PaymentInput): Promise<PaymentOutcome> {
  let payment: PaymentRequest | undefined;
  try {
    payment = parsePaymentRequest(input.body, input.methodFromPath);
    const { connector, account } = input;
    if (!connector.mapping.supports(payment.method, payment.tender)) {
      throw new UnsupportedPayment(`${connector.name} does not support ${payment.method} with ${payment.tender === 'ach' ? 'a bank account' : 'a card'}`);
    }
    const claim = claimFor(connector, account, payment, deps.instanceId);
    const valid = payment;
    const result = await deps.gate.once({
      claim,
      formerKeys: account.formerIds.map((id) => ({ ...claim, account: id })),
      sameCredentials: account.madeThis,
      perform: () => chargeOnce(deps, input, valid),
    });
    const first = result.arrival === 'first';
    return {
      ...factsOf(payment),
      answer: result.answer,
      outcome: result.status === 'approved' || result.status === 'declined' ? result.status : 'error',
      errorCode: result.errorCode ?? undefined,
      arrival: result.arrival,
      journalStatus: first ? result.status : undefined,
      gatewayMs: first ? (result.gatewayMs ?? undefined) : undefined,
    };
  } catch (error) {
    const method = payment?.method ?? methodOf(input);
    const failed = answerFailure(error, { method, logger: deps.logger, requestId: input.requestId });
    return { ...(payment ? factsOf(payment) : factsOfInvalid(input)), answer: failed.answer, outcome: failed.outcome, errorCode: failed.failure.code };
  }
}

/** Runs only for the request that won the claim; always settles, never throws. */
async function chargeOnce(deps: PaymentDependencies, input: PaymentInput, payment: PaymentRequest): Promise<Settlement> {
  const { connector, credentials } = input;
  let sent = false;
  let gatewayMs: number | null = null;
  try {
    const values = requestValues(payment, credentials);
    const request = connector.mapping.buildRequest(values, payment.method, payment.tender);
    const debug = deps.logger.isDebugEnabled();
    // Sensitive fields (the mapping's list) are Secrets here: this line shows their masks.
    if (debug) deps.logger.debug('gateway request', {
      request_id: input.requestId,
      connector: connector.name,
      url: connector.endpoint,
      encoding: request.encoding,
      fields: Object.fromEntries(request.fields),
    });
    const started = performance.now();
    sent = true;
    const answer = await deps.gateway.send(connector.endpoint, request).finally(() => {
      gatewayMs = Math.round(performance.now() - started);
    });
    // Gateways echo some of what they got (PayConex: card_expiration): every sensitive field
    // sent is masked wherever the answer's text travels on, to the log or to the caller.
    const secrets = [...secretsOf(values), ...request.fields.map(([, value]) => value).filter((value): value is Secret => value instanceof Secret)];
    if (debug) {
      deps.logger.debug('gateway answer', {
        request_id: input.requestId,
        status: answer.status,
        body: scrubSecrets(answer.body.slice(0, DEBUG_BODY_CHARS), secrets),
      });
    }
    const verdict = connector.mapping.readAnswer(payment.method, answer, secrets);
    if (verdict.approved) {
      return {
        status: 'approved',
        gatewayTransactionId: verdict.id,
        errorCode: null,
        errorMessage: null,
        gatewayMs,
        answer: approvedAnswer(payment.method, verdict.id, verdict.parameters),
      };
    }
    return {
      status: 'declined',
      gatewayTransactionId: null,
      errorCode: verdict.errorCode,
      errorMessage: verdict.errorMessage,
      gatewayMs,
      answer: declinedAnswer(payment.method, verdict.errorCode, verdict.errorMessage, verdict.parameters),
    };
  } catch (error) {
    const { failure, answer } = answerFailure(error, { method: payment.method, logger: deps.logger, requestId: input.requestId, gatewayCalled: sent });
    return { status: statusOf(failure, sent), gatewayTransactionId: null, errorCode: failure.code, errorMessage: failure.message, gatewayMs, answer };
  }
}

/**
 * `unknown` when the gateway may have acted without us learning how: it timed out,
 * the connection broke, or it answered 2xx with something unreadable.
 */
function statusOf(failure: BridgeError, sent: boolean): Settlement['status'] {
  if (failure instanceof GatewayRejected) return 'declined';
  if (failure instanceof GatewayTimeout || failure instanceof GatewayNoResponse || failure instanceof GatewayBadResponse) return 'unknown';
  if (failure instanceof InternalError) return sent ? 'unknown' : 'error';
  return 'error';
}

function claimFor(connector: GatewayConnector, account: GatewayAccount, payment: PaymentRequest, owner: string): NewClaim {
  const cardBrand = payment.card?.brand ?? null;
  const last4 = payment.card?.last4 ?? payment.bank?.accountLast ?? null;
  return {
    connector: connector.name,
    account: account.id,
    transactionId: payment.transactionId,
    method: payment.method,
    tender: payment.tender,
    amount: payment.amount ?? null,
    currency: payment.currency ?? null,
    cardBrand,
    last4,
    fingerprint: createHash('sha256')
      .update(JSON.stringify([payment.method, payment.tender, payment.amount ?? '', payment.currency ?? '', cardBrand ?? '', last4 ?? '']))
      .digest('hex'),
    credentialHash: account.credentialHash,
    sessionId: sessionIdOf(payment),
    owner,
  };
}

/** The payment session a request belongs to: Twilio hands on the `session_id` parameter a session gave it. */
function sessionIdOf(payment: PaymentRequest): string | null {
  const id = payment.parameters.session_id;
  return id !== undefined && /^ps_[0-9a-f]{32}$/.test(id) ? id : null;
}

function factsOf(payment: PaymentRequest): PaymentFacts {
  return {
    method: payment.method,
    tender: payment.tender,
    transactionId: payment.transactionId,
    cardBrand: payment.card?.brand,
    last4: payment.card?.last4 ?? payment.bank?.accountLast,
    amount: payment.amount,
    currency: payment.currency,
  };
}

const TRANSACTION_ID = new RegExp(connectorRequestSchema.properties.transaction_id.pattern);

/** Of a request that is not a valid payment, what may still be told: its method and a well-formed transaction_id. */
function factsOfInvalid(input: PaymentInput): PaymentFacts {
  const id = input.body.transaction_id;
  const wellFormed = typeof id === 'string' && id.length <= connectorRequestSchema.properties.transaction_id.maxLength && TRANSACTION_ID.test(id);
  return { method: methodOf(input), transactionId: wellFormed ? id : undefined };
}

function methodOf(input: PaymentInput): PaymentMethod {
  const { method } = input.body;
  return method === 'charge' || method === 'tokenize' ? method : (input.methodFromPath ?? 'charge');
}

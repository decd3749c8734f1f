import { createHash } from 'node:crypto';
import { approvedAnswer, declinedAnswer, failureAnswer, type WireAnswer } from '../contract/connector-answer';
import { parsePaymentRequest, type PaymentRequest } from '../contract/payment-request';
import {
  BridgeError,
  GatewayBadResponse,
  GatewayNoResponse,
  GatewayRejected,
  GatewayTimeout,
  InternalError,
  UnsupportedPayment,
} from '../errors';
import type { GatewayClient } from '../gateway/gateway-client';
import type { RequestContext } from '../http/request-context';
import { describeUnexpected, type Logger } from '../logging/logger';
import type { GatewayConnector } from '../mapping/connectors';
import { requestValues, secretsOf, type Credentials } from '../mapping/values';
import { Secret, scrubSecrets } from '../redaction/secret';
import type { IdempotencyGate } from '../store/idempotency';
import type { NewClaim, Settlement } from '../store/journal';
import type { GatewayAccount } from './gateway-account';

/** How much of a gateway answer a debug line shows. */
const DEBUG_BODY_CHARS = 2000;

export interface PaymentDependencies {
  gateway: GatewayClient;
  gate: IdempotencyGate;
  instanceId: string;
  logger: Logger;
}

export interface PaymentInput {
  connector: GatewayConnector;
  credentials: Credentials;
  /** The gateway account the credentials name, and their keyed hash. */
  account: GatewayAccount;
  body: Record<string, unknown>;
  methodFromPath?: PaymentRequest['method'];
}

/**
 * One Twilio request, start to end: validate, claim the transaction_id, map, call
 * the gateway, translate, record, answer. A repeated transaction_id gets the first
 * answer and never reaches the gateway. Failures before the claim are thrown and
 * answered by the HTTP layer; after it, every outcome is recorded.
 */
export async function takePayment(deps: PaymentDependencies, input: PaymentInput, context: RequestContext): Promise<WireAnswer> {
  const { connector, credentials } = input;
  const payment = parsePaymentRequest(input.body, input.methodFromPath);
  describePayment(context, payment);

  if (!connector.mapping.supports(payment.method, payment.tender)) {
    throw new UnsupportedPayment(`${connector.name} does not support ${payment.method} with ${payment.tender === 'ach' ? 'a bank account' : 'a card'}`);
  }

  const { account } = input;
  const claim = claimFor(connector, account, payment, deps.instanceId);
  return deps.gate.once({
    claim,
    formerKeys: account.formerIds.map((id) => ({ ...claim, account: id })),
    sameCredentials: account.madeThis,
    perform: async () => {
      const settlement = await chargeOnce(deps, input, payment, context);
      context.journalStatus = settlement.status;
      return settlement;
    },
    arrived: (arrival) => {
      context.arrival = arrival;
    },
  });
}

/** Runs only for the request that won the claim; always settles, never throws. */
async function chargeOnce(deps: PaymentDependencies, input: PaymentInput, payment: PaymentRequest, context: RequestContext): Promise<Settlement> {
  const { connector, credentials } = input;
  let sent = false;
  let gatewayMs: number | null = null;
  try {
    const values = requestValues(payment, credentials);
    const request = connector.mapping.buildRequest(values, payment.method, payment.tender);
    const debug = deps.logger.isDebugEnabled();
    // Sensitive fields (the mapping's list) are Secrets here: this line shows their masks.
    if (debug) deps.logger.debug('gateway request', {
      request_id: context.requestId,
      connector: connector.name,
      url: connector.endpoint,
      encoding: request.encoding,
      fields: Object.fromEntries(request.fields),
    });
    const started = performance.now();
    sent = true;
    const answer = await deps.gateway.send(connector.endpoint, request).finally(() => {
      gatewayMs = Math.round(performance.now() - started);
      context.gatewayMs = gatewayMs;
    });
    // Gateways echo some of what they got (PayConex: card_expiration): every sensitive field
    // sent is masked wherever the answer's text travels on, to the log or to the caller.
    const secrets = [...secretsOf(values), ...request.fields.map(([, value]) => value).filter((value): value is Secret => value instanceof Secret)];
    if (debug) {
      deps.logger.debug('gateway answer', {
        request_id: context.requestId,
        status: answer.status,
        body: scrubSecrets(answer.body.slice(0, DEBUG_BODY_CHARS), secrets),
      });
    }
    const verdict = connector.mapping.readAnswer(payment.method, answer, secrets);
    if (verdict.approved) {
      context.outcome = 'approved';
      return {
        status: 'approved',
        gatewayTransactionId: verdict.id,
        errorCode: null,
        errorMessage: null,
        gatewayMs,
        answer: approvedAnswer(payment.method, verdict.id, verdict.parameters),
      };
    }
    context.outcome = 'declined';
    context.errorCode = verdict.errorCode;
    return {
      status: 'declined',
      gatewayTransactionId: null,
      errorCode: verdict.errorCode,
      errorMessage: verdict.errorMessage,
      gatewayMs,
      answer: declinedAnswer(payment.method, verdict.errorCode, verdict.errorMessage, verdict.parameters),
    };
  } catch (error) {
    const failure = error instanceof BridgeError ? error : unexpected(deps.logger, error, context);
    const status = statusOf(failure, sent);
    context.outcome = status === 'declined' ? 'declined' : 'error';
    context.errorCode = failure.code;
    return { status, gatewayTransactionId: null, errorCode: failure.code, errorMessage: failure.message, gatewayMs, answer: failureAnswer(payment.method, failure) };
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

function unexpected(logger: Logger, error: unknown, context: RequestContext): InternalError {
  logger.error('unexpected error', { request_id: context.requestId, ...describeUnexpected(error) });
  return new InternalError('The service failed unexpectedly; reconcile this payment with the gateway');
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
    owner,
  };
}

function describePayment(context: RequestContext, payment: PaymentRequest): void {
  context.payMethod = payment.method;
  context.tender = payment.tender;
  context.transactionId = payment.transactionId;
  context.cardBrand = payment.card?.brand;
  context.last4 = payment.card?.last4 ?? payment.bank?.accountLast;
  context.amount = payment.amount;
  context.currency = payment.currency;
}

import { approvedAnswer, failedAnswer, type ConnectorAnswer } from '../connector/answer';
import { parsePaymentRequest, type PaymentMethod, type PaymentRequest } from '../connector/payment-request';
import { UnsupportedPayment } from '../errors';
import type { GatewayClient } from '../gateway/client';
import type { Connector } from '../mapping/connectors';
import { requestValues, type Credentials } from '../mapping/values';
import type { Secret } from '../redaction/secret';
import type { RequestContext } from '../http/request-context';

export interface PaymentDependencies {
  gateway: GatewayClient;
}

export interface PaymentInput {
  connector: Connector;
  credentials: Credentials;
  body: Record<string, unknown>;
  methodFromPath?: PaymentMethod;
}

/**
 * One Twilio request, start to end: validate, map, call the gateway, translate.
 * Failures are thrown as BridgeErrors and answered in one place (src/http/answer-error.ts).
 * What is learnt on the way is written to `context` for the request's log line.
 */
export async function takePayment(deps: PaymentDependencies, input: PaymentInput, context: RequestContext): Promise<ConnectorAnswer> {
  const { connector, credentials } = input;
  const payment = parsePaymentRequest(input.body, input.methodFromPath);
  describePayment(context, payment);

  if (!connector.translator.supports(payment.method, payment.tender)) {
    throw new UnsupportedPayment(`${connector.name} does not support ${payment.method} with ${payment.tender === 'ach' ? 'a bank account' : 'a card'}`);
  }

  const request = connector.translator.buildRequest(requestValues(payment, credentials), payment.method, payment.tender);
  const started = performance.now();
  const answer = await deps.gateway.send(connector.endpoint, request).finally(() => {
    context.gatewayMs = Math.round(performance.now() - started);
  });

  const verdict = connector.translator.readAnswer(payment.method, answer, secretsOf(payment, credentials));
  if (verdict.approved) {
    context.outcome = 'approved';
    return approvedAnswer(payment.method, verdict.id, verdict.parameters);
  }
  context.outcome = 'declined';
  context.errorCode = verdict.errorCode;
  return failedAnswer(payment.method, verdict.errorCode, verdict.errorMessage, verdict.parameters);
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

function secretsOf(payment: PaymentRequest, credentials: Credentials): Secret[] {
  return [payment.card?.number, payment.card?.cvv, payment.bank?.accountNumber, payment.bank?.routingNumber, credentials.password].filter(
    (value): value is Secret => value !== undefined,
  );
}

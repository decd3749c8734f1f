import { callConnector } from './connector-call';
import type { CaptureField } from './card-rules';
import { connectorRequest, isCharge, type Captured } from './payment-fields';
import type { PayOptions } from './pay-options';
import { NOT_A_TEST_BANK_ACCOUNT, NOT_A_TEST_CARD, TEST_BANK_ACCOUNTS, TEST_CARDS } from './test-mode';

/** How a payment ended, in Twilio's words, for both flows. */
export interface PaymentResult {
  /** `Result` and the fields that go with it: PaymentConfirmationCode or PaymentToken, or the errors. */
  fields: Record<string, string>;
  /** The connector answer's `parameters`, which only a `<Pay>` action request carries (as PayConnector_<key>). */
  connectorParameters: Record<string, string>;
}

/**
 * Sends what was captured to the connector as Twilio does and turns its answer into
 * Twilio's result. A TEST-mode connector is never called with a number that is not one of
 * Twilio's test numbers: the payment ends with 64022 (card) or 64023 (bank account).
 */
export async function payThroughConnector(
  options: PayOptions,
  captured: Captured,
  timing: { waitMs: number; retries: number },
): Promise<PaymentResult> {
  const refused = testModeRefusal(options, captured);
  if (refused) return { fields: { Result: 'payment-connector-error', PayErrorCode: refused.code, PaymentError: refused.message }, connectorParameters: {} };

  const charge = isCharge(options);
  const outcome = await callConnector(options.connector, connectorRequest(options, captured), timing);
  const idKey = charge ? 'charge_id' : 'token_id';
  const rejected = charge ? 'Payment Gateway rejected charge creation.' : 'Payment Gateway rejected token creation.';
  const failureCode = charge ? '64008' : '64010';
  if (outcome.kind === 'answer' && outcome.status === 200 && outcome.body.error_code == null && typeof outcome.body[idKey] === 'string') {
    const id = String(outcome.body[idKey]);
    const parameters = outcome.body.parameters;
    const connectorParameters =
      parameters && typeof parameters === 'object' && !Array.isArray(parameters) ? Object.fromEntries(Object.entries(parameters).map(([key, value]) => [key, String(value)])) : {};
    return { fields: { Result: 'success', ...(charge ? { PaymentConfirmationCode: id } : { PaymentToken: id }) }, connectorParameters };
  }
  if (outcome.kind === 'answer') {
    return {
      fields: {
        Result: 'payment-connector-error',
        ConnectorError: String(outcome.body.error_code ?? `HTTP ${outcome.status}`),
        PayErrorCode: failureCode,
        PaymentError: String(outcome.body.error_message ?? rejected),
      },
      connectorParameters: {},
    };
  }
  const why = outcome.kind === 'malformed' ? 'Got malformed response from Payment Provider.' : 'No answer from Payment Provider.';
  return { fields: { Result: 'payment-connector-error', PayErrorCode: failureCode, PaymentError: `${rejected} ${why}` }, connectorParameters: {} };
}

function testModeRefusal(options: PayOptions, captured: (field: CaptureField) => string | undefined) {
  if (options.connector.mode !== 'test') return undefined;
  if (options.paymentMethod === 'ach-debit') {
    return TEST_BANK_ACCOUNTS.includes(captured('bank-account-number') ?? '') ? undefined : NOT_A_TEST_BANK_ACCOUNT;
  }
  return TEST_CARDS.includes(captured('payment-card-number') ?? '') ? undefined : NOT_A_TEST_CARD;
}

/** `PayConnector_<key>` for each answer parameter: `<Pay>` action requests only, as on Twilio. */
export function payConnectorFields(parameters: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(parameters).map(([key, value]) => [`PayConnector_${key}`, value]));
}

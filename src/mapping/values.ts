import type { PaymentRequest } from '../contract/payment-request';
import { Secret, type MaybeSecret } from '../redaction/secret';

/** The Basic auth credentials of the request; the password stays a Secret. */
export interface Credentials {
  username: string;
  password: Secret;
}

/**
 * The values a mapping can read, named as in the Twilio request (`cardnumber`,
 * `expiry_month`, ...) plus `method`, `tender`, `auth.*` and `parameters.<key>`.
 */
export type RequestValues = ReadonlyMap<string, MaybeSecret>;

export function requestValues(payment: PaymentRequest, credentials: Credentials): RequestValues {
  const values = new Map<string, MaybeSecret | undefined>([
    ['method', payment.method],
    ['tender', payment.tender],
    ['transaction_id', payment.transactionId],
    ['cardnumber', payment.card?.number],
    ['cvv', payment.card?.cvv],
    ['expiry_month', payment.card?.expiryMonth],
    ['expiry_year', payment.card?.expiryYear],
    ['postal_code', payment.card?.postalCode],
    ['bankaccountnumber', payment.bank?.accountNumber],
    ['routingnumber', payment.bank?.routingNumber],
    ['amount', payment.amount],
    ['currency_code', payment.currency],
    ['description', payment.description],
    ['auth.username', credentials.username],
    ['auth.password', credentials.password],
  ]);
  for (const [key, value] of Object.entries(payment.parameters)) values.set(`parameters.${key}`, value);
  for (const [key, value] of values) if (value === undefined || value === '') values.delete(key);
  return values as RequestValues;
}

/** Sources whose values are card, bank or credential data: fields built from them must be declared sensitive. */
export function isSensitiveSource(source: string): boolean {
  return ['cardnumber', 'cvv', 'bankaccountnumber', 'routingnumber', 'auth.password'].includes(source) || source.startsWith('env.');
}

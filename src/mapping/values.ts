import type { PaymentRequest } from '../contract/payment-request';
import { SENSITIVE_REQUEST_FIELDS } from '../contract/sensitive-fields';
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
  // Every field as sent (the sensitive ones already Secrets), then the normalised ones over them.
  const values = new Map<string, MaybeSecret | undefined>([
    ...payment.fields,
    ['method', payment.method],
    ['tender', payment.tender],
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
  return SENSITIVE_REQUEST_FIELDS.has(source) || source === 'auth.password' || source.startsWith('env.');
}

/** Every secret of a payment: its sensitive fields and the gateway key, masked wherever a gateway's text echoes them. */
export function secretsOf(values: RequestValues): Secret[] {
  return [...values.values()].filter((value): value is Secret => value instanceof Secret);
}

import { Secret, secret } from '../redaction/secret';
import { connectorRequestSchema } from './request-schema';

/** How a sensitive field prints: a card's last 4, a bank account's last 2-4, or nothing at all. */
export type MaskKind = 'card-number' | 'bank-account' | 'hidden';

const MASKS: Record<MaskKind, (value: string) => Secret> = {
  'card-number': secret.cardNumber,
  'bank-account': secret.bankAccount,
  hidden: secret.hidden,
};

/**
 * The request fields that carry card or bank data, and their masks, read from the schema's
 * `x-sensitive` annotations: never logged, stored or echoed. Everything that must know them
 * (the parser, the values a mapping reads, the scrubbing of gateway answers, the sources a mapping
 * must declare sensitive) asks here.
 */
export const SENSITIVE_REQUEST_FIELDS: ReadonlyMap<string, MaskKind> = new Map(
  Object.entries(connectorRequestSchema.properties as Record<string, { 'x-sensitive'?: MaskKind }>).flatMap(([field, rule]) =>
    rule['x-sensitive'] ? [[field, rule['x-sensitive']] as const] : [],
  ),
);

/** The value of a sensitive field as a Secret with its mask. */
export function protect(field: string, value: string): Secret {
  return MASKS[SENSITIVE_REQUEST_FIELDS.get(field) ?? 'hidden'](value);
}

/** From here on, a body's card and bank numbers print as masks wherever they end up. */
export function protectSensitiveFields(body: Record<string, unknown>): Record<string, unknown> {
  for (const field of SENSITIVE_REQUEST_FIELDS.keys()) {
    const value = body[field];
    if (typeof value === 'string') body[field] = protect(field, value);
  }
  return body;
}

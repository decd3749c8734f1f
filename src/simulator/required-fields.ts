import type { CaptureField } from './card-rules';
import type { PayOptions } from './pay-options';

/**
 * What a payment needs from the caller, in `<Pay>`'s prompting order: the card fields the
 * options ask for (a literal `<Pay postalCode>` stands for the caller's entry), or the bank's.
 */
export function fieldsToCapture(options: Pick<PayOptions, 'paymentMethod' | 'securityCode' | 'postalCode'>): CaptureField[] {
  if (options.paymentMethod === 'ach-debit') return ['bank-routing-number', 'bank-account-number'];
  return [
    'payment-card-number',
    'expiration-date',
    ...(options.securityCode ? (['security-code'] as const) : []),
    ...(options.postalCode === true ? (['postal-code'] as const) : []),
  ];
}

/** A field the caller types a second time, to match (`Capture=payment-card-number-matcher`). */
export type MatcherCapture = `${CaptureField}-matcher`;
export const matcherOf = (field: CaptureField): MatcherCapture => `${field}-matcher`;
export function fieldOfMatcher(capture: string): CaptureField | undefined {
  return capture.endsWith('-matcher') ? (capture.slice(0, -'-matcher'.length) as CaptureField) : undefined;
}

/** The names `Required` lists (Twilio's example: `Required=ExpirationDate`). */
const REQUIRED_NAMES: Record<CaptureField, string> = {
  'payment-card-number': 'PaymentCardNumber',
  'expiration-date': 'ExpirationDate',
  'security-code': 'SecurityCode',
  'postal-code': 'PostalCode',
  'bank-routing-number': 'BankRoutingNumber',
  'bank-account-number': 'BankAccountNumber',
};

/**
 * `Required`, as the callbacks carry it: each field still to capture, and each field still to
 * match (`PaymentCardNumberMatcher`), comma separated; empty once everything is in.
 */
export function requiredNames(missing: CaptureField[], unmatched: CaptureField[]): string {
  return [...missing.map((field) => REQUIRED_NAMES[field]), ...unmatched.map((field) => `${REQUIRED_NAMES[field]}Matcher`)].join(',');
}

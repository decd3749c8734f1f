import { expiryHasPassed, passesAbaChecksum, passesLuhn } from '../contract/card-brand';

/**
 * What Twilio checks while the caller types (twilio-pay-sessions.md §3): card types
 * by prefix and length, Luhn, expiry in the future, CVV length by brand, postal
 * length, ABA routing checksum. The Luhn and ABA checks are the bridge's own.
 */
export const CAPTURE_FIELDS = [
  'payment-card-number',
  'expiration-date',
  'security-code',
  'postal-code',
  'bank-routing-number',
  'bank-account-number',
] as const;
export type CaptureField = (typeof CAPTURE_FIELDS)[number];

export type TwilioCardType = 'visa' | 'mastercard' | 'amex' | 'maestro' | 'discover' | 'jcb' | 'diners-club' | 'enroute';

interface TypeRule {
  type: TwilioCardType;
  lengths: (digits: string) => boolean;
  prefixes: Array<[string, string]>;
}

const between = (min: number, max: number) => (digits: string) => digits.length >= min && digits.length <= max;

// Twilio's card types, deliberately apart from the bridge's brand table (cardBrand() in
// src/connector/card-brand.ts). This one is Twilio's closed `validCardTypes` list (spec §3),
// matched by prefix AND length, and decides what ValidCardTypes accepts: it has enroute
// and no UnionPay, which Twilio does not list. The bridge's names the issuing network for
// logs and the journal, by prefix only, with UnionPay (62, 81) and the networks' own
// Discover and Diners ranges. One table would change one side's answers: 6200000000000005 is
// maestro here (Twilio has no UnionPay type) and unionpay in the journal. Luhn, ABA and expiry are shared.
// Order matters: a number takes the first type whose prefix and length fit. Twilio gives
// maestro lengths but no prefixes, so it takes what the others leave of 5 and 6.
const RULES: TypeRule[] = [
  { type: 'amex', lengths: (d) => d.length === 15, prefixes: [['34', '34'], ['37', '37']] },
  { type: 'enroute', lengths: (d) => d.length === 15, prefixes: [['2014', '2014'], ['2149', '2149']] },
  { type: 'visa', lengths: (d) => [13, 15, 16, 19].includes(d.length), prefixes: [['4', '4']] },
  { type: 'mastercard', lengths: (d) => d.length === 16, prefixes: [['51', '55'], ['2221', '2720']] },
  { type: 'discover', lengths: between(16, 19), prefixes: [['6011', '6011'], ['64', '65']] },
  { type: 'jcb', lengths: between(16, 19), prefixes: [['3528', '3589']] },
  {
    type: 'diners-club',
    lengths: (d) => (d.startsWith('36') ? between(14, 19)(d) : between(16, 19)(d)),
    prefixes: [['300', '305'], ['3095', '3095'], ['36', '36'], ['38', '39']],
  },
  { type: 'maestro', lengths: between(12, 19), prefixes: [['5', '6']] },
];

export function cardTypeOf(digits: string): TwilioCardType | undefined {
  return RULES.find(({ lengths, prefixes }) => lengths(digits) && prefixes.some(([low, high]) => {
    const prefix = digits.slice(0, low.length);
    return prefix >= low && prefix <= high;
  }))?.type;
}

export type FieldError =
  | 'invalid-card-number'
  | 'invalid-card-type'
  | 'invalid-date'
  | 'invalid-security-code'
  | 'invalid-postal-code'
  | 'invalid-bank-routing-number'
  | 'invalid-bank-account-number';

export function checkCardNumber(digits: string, validTypes: readonly string[]): FieldError | undefined {
  if (!/^\d{12,19}$/.test(digits) || !passesLuhn(digits)) return 'invalid-card-number';
  const type = cardTypeOf(digits);
  return type && validTypes.includes(type) ? undefined : 'invalid-card-type';
}

/** MMYY, the last day of that month not yet past. */
export function checkExpiry(digits: string, now: Date): FieldError | undefined {
  if (!/^(0[1-9]|1[0-2])\d{2}$/.test(digits)) return 'invalid-date';
  return expiryHasPassed(digits, now) ? 'invalid-date' : undefined;
}

export function checkSecurityCode(digits: string, cardNumber: string | undefined): FieldError | undefined {
  const length = cardNumber && cardTypeOf(cardNumber) === 'amex' ? 4 : 3;
  return new RegExp(`^\\d{${length}}$`).test(digits) ? undefined : 'invalid-security-code';
}

export function checkPostalCode(digits: string, minLength: number): FieldError | undefined {
  return /^\d+$/.test(digits) && digits.length >= minLength && digits.length <= 10 ? undefined : 'invalid-postal-code';
}

export function checkRoutingNumber(digits: string): FieldError | undefined {
  return passesAbaChecksum(digits) ? undefined : 'invalid-bank-routing-number';
}

export function checkBankAccountNumber(digits: string): FieldError | undefined {
  return /^\d{4,17}$/.test(digits) ? undefined : 'invalid-bank-account-number';
}

/** The check for one captured field; `cardNumber` is the one captured before, for the CVV length. */
export function checkField(
  field: CaptureField,
  digits: string,
  rules: { validCardTypes: readonly string[]; minPostalCodeLength: number; cardNumber?: string },
): FieldError | undefined {
  switch (field) {
    case 'payment-card-number':
      return checkCardNumber(digits, rules.validCardTypes);
    case 'expiration-date':
      return checkExpiry(digits, new Date());
    case 'security-code':
      return checkSecurityCode(digits, rules.cardNumber);
    case 'postal-code':
      return checkPostalCode(digits, rules.minPostalCodeLength);
    case 'bank-routing-number':
      return checkRoutingNumber(digits);
    case 'bank-account-number':
      return checkBankAccountNumber(digits);
  }
}

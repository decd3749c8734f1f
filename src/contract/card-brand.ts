/**
 * Card brand from the number's leading digits (IIN ranges), for logs and the
 * journal. Only the brand and last 4 are ever shown; the gateway decides what it accepts.
 */
export type CardBrand =
  | 'visa'
  | 'mastercard'
  | 'amex'
  | 'discover'
  | 'diners'
  | 'jcb'
  | 'unionpay'
  | 'maestro'
  | 'unknown';

interface BrandRange {
  brand: CardBrand;
  /** Inclusive prefix ranges of equal length, e.g. ['2221', '2720']. */
  ranges: Array<[string, string]>;
}

// Deliberately not shared with the simulator's Twilio card types (src/simulator/card-rules.ts):
// those are Twilio's closed validCardTypes list, matched by prefix and length, with no UnionPay;
// this table names the issuing network for logs and the journal, so UnionPay stays unionpay.
// Order matters: the more specific ranges come before the broad ones they overlap.
const BRANDS: BrandRange[] = [
  { brand: 'amex', ranges: [['34', '34'], ['37', '37']] },
  { brand: 'diners', ranges: [['30', '30'], ['36', '36'], ['38', '39']] },
  { brand: 'jcb', ranges: [['3528', '3589']] },
  { brand: 'visa', ranges: [['4', '4']] },
  { brand: 'mastercard', ranges: [['51', '55'], ['2221', '2720']] },
  {
    brand: 'discover',
    ranges: [['6011', '6011'], ['644', '649'], ['65', '65'], ['622126', '622925']],
  },
  { brand: 'unionpay', ranges: [['62', '62'], ['81', '81']] },
  { brand: 'maestro', ranges: [['50', '50'], ['56', '58'], ['6', '6']] },
];

export function cardBrand(cardNumber: string): CardBrand {
  for (const { brand, ranges } of BRANDS) {
    for (const [low, high] of ranges) {
      const prefix = cardNumber.slice(0, low.length);
      if (prefix.length === low.length && prefix >= low && prefix <= high) return brand;
    }
  }
  return 'unknown';
}

/** The Luhn (mod 10) check digit test. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let digit = digits.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return false;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** A card is good through the last day of its expiry month (MMYY). */
export function expiryHasPassed(mmyy: string, now: Date): boolean {
  const month = Number(mmyy.slice(0, 2));
  const year = 2000 + Number(mmyy.slice(2));
  return year * 12 + month < now.getUTCFullYear() * 12 + now.getUTCMonth() + 1;
}

/** The ABA routing number checksum: 3-7-1 weights over nine digits. */
export function passesAbaChecksum(routing: string): boolean {
  if (!/^\d{9}$/.test(routing)) return false;
  const weights = [3, 7, 1, 3, 7, 1, 3, 7, 1];
  const sum = weights.reduce((total, weight, i) => total + weight * (routing.charCodeAt(i) - 48), 0);
  return sum % 10 === 0;
}

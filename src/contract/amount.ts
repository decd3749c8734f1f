/**
 * Amounts stay decimal strings from Twilio to the gateway: no floating point
 * ever touches money. A canonical amount has two decimals: "10.0" -> "10.00".
 */
export const MAX_AMOUNT_EXCLUSIVE = 1_000_000;

/** "0010.50" -> "10.50"; undefined when it has more than two significant decimals. */
export function canonicalAmount(decimal: string): string | undefined {
  const [wholePart = '', fractionPart = ''] = decimal.split('.');
  const fraction = fractionPart.replace(/0+$/, '');
  if (fraction.length > 2) return undefined;
  const whole = wholePart.replace(/^0+(?=\d)/, '') || '0';
  return `${whole}.${fraction.padEnd(2, '0')}`;
}

export function isZeroAmount(canonical: string): boolean {
  return /^0\.00$/.test(canonical);
}

export function isBelowMaximum(canonical: string): boolean {
  const whole = canonical.split('.')[0] ?? '';
  return whole.length <= String(MAX_AMOUNT_EXCLUSIVE - 1).length;
}

/** "10.50" -> "1050", for gateways that want minor units of a two-decimal currency. */
export function toMinorUnits(canonical: string): string {
  return canonical.replace('.', '').replace(/^0+(?=\d)/, '');
}

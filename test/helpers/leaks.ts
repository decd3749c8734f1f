import { AMEX } from './flows';
import { ACCESS_KEY, BANK_ACCOUNT, CREDENTIAL_HASH_KEY, CVV, ROUTING, VISA, basicAuth } from './test-data';

/** The test secrets, and every form in which a leak of them could show. */
const secrets: Record<string, string> = {
  card: VISA,
  amex: AMEX,
  bank: BANK_ACCOUNT,
  routing: ROUTING,
  key: ACCESS_KEY,
  'credential hash key': CREDENTIAL_HASH_KEY,
};

function forbiddenForms(): Array<[string, RegExp]> {
  const forms: Array<[string, RegExp]> = [];
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  for (const [name, value] of Object.entries(secrets)) {
    forms.push([`${name} in clear`, new RegExp(escape(value))]);
    for (const [shift, encoded] of base64Alignments(value).entries()) forms.push([`${name} in base64 (offset ${shift})`, new RegExp(escape(encoded))]);
    forms.push([`${name} URL-encoded`, new RegExp(escape(encodeURIComponent(value)))]);
  }
  // A CVV is short: look for it as a value of its own ("9731", =9731&), not inside a longer
  // number or a request id's hex groups (3f2a-9731-...), where it turns up by chance.
  forms.push(['cvv', new RegExp(`(?<![0-9A-Za-z-])${CVV}(?![0-9A-Za-z-])`)]);
  forms.push(['Authorization header', new RegExp(escape(basicAuth().slice('Basic '.length)))]);
  forms.push(['Authorization header (declined account)', new RegExp(escape(basicAuth('12345678901', ACCESS_KEY).slice('Basic '.length)))]);
  return forms;
}

/**
 * The base64 text of `value` wherever it sits in an encoded stream: at a byte offset of 0, 1
 * or 2 modulo 3, only the 4-character groups made of its own bytes alone are the same.
 */
export function base64Alignments(value: string): string[] {
  return [0, 1, 2].map((shift) => {
    const encoded = Buffer.concat([Buffer.alloc(shift), Buffer.from(value)]).toString('base64');
    const wholeGroups = Math.floor((shift + value.length) / 3);
    return encoded.slice(shift === 0 ? 0 : 4, wholeGroups * 4);
  });
}

/** Fails naming each secret (and encoding) found in the text. */
export function expectNoSecrets(output: string): void {
  expect(output.length).toBeGreaterThan(0);
  const leaks = forbiddenForms().filter(([, pattern]) => pattern.test(output)).map(([name]) => name);
  expect(leaks).toEqual([]);
}


/**
 * Fails naming each of `values` found in the text. A short value (a CVV) counts only standing
 * alone, not inside a longer run of letters and digits (a CSRF token's or a sid's hex), where it
 * turns up by chance.
 */
export function expectNoneOf(text: string, values: readonly string[]): void {
  const found = values.filter((value) =>
    value.length >= 8 ? text.includes(value) : new RegExp(`(?<![0-9A-Za-z])${value}(?![0-9A-Za-z])`).test(text),
  );
  expect(found).toEqual([]);
}

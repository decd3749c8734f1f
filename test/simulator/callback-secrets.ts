import type { ReceivedRequest } from '../helpers/callback-receiver';
import { expectNoSecrets } from '../helpers/leaks';

/** The clear payment values a test file typed on the simulated keypad. */
export interface TypedValues {
  cards: string[];
  cvvs: string[];
  bankAccounts: string[];
  routingNumbers: string[];
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Issue 7, acceptance 4: every body the receivers got (status callbacks, <Pay> action
 * requests), read raw, holds no full card, CVV, bank account or routing number: neither
 * the values this file typed nor the shared test secrets of test/helpers/leaks.ts.
 * A long number is looked for in clear, URL-encoded, in base64, and in each field with
 * anything between its digits ("4111 1111 1111 1111"); a CVV, being short, as a value of
 * its own (=973&, "9 7 3"), not inside a longer number or a sid's hex.
 */
export function expectNoTypedValues(receivers: Array<{ received: ReceivedRequest[] }>, typed: TypedValues): void {
  const received = receivers.flatMap((receiver) => receiver.received);
  expect(received.length).toBeGreaterThan(0);
  const raw = received.map((request) => request.raw).join('\n');
  expectNoSecrets(raw);

  const leaks: string[] = [];
  const longNumbers = [
    ...typed.cards.map((value) => ['card', value] as const),
    ...typed.bankAccounts.map((value) => ['bank account', value] as const),
    ...typed.routingNumbers.map((value) => ['routing number', value] as const),
  ];
  for (const [kind, value] of longNumbers) {
    const forms = [value, encodeURIComponent(value), Buffer.from(value).toString('base64').replace(/=+$/, '')];
    if (forms.some((form) => raw.includes(form))) leaks.push(`${kind} ${value.slice(-4)} in a raw body`);
    for (const { fields } of received) {
      for (const [name, fieldValue] of Object.entries(fields)) {
        if (fieldValue.replace(/\D/g, '').includes(value)) leaks.push(`${kind} ${value.slice(-4)} in ${name}`);
      }
    }
  }
  for (const cvv of typed.cvvs) {
    const alone = new RegExp(`(?<![0-9A-Za-z-])${escape(cvv)}(?![0-9A-Za-z-])`);
    if (alone.test(raw)) leaks.push(`CVV in a raw body`);
    for (const { fields } of received) {
      for (const [name, fieldValue] of Object.entries(fields)) {
        if (fieldValue.replace(/\D/g, '') === cvv) leaks.push(`CVV in ${name}`);
      }
    }
  }
  expect([...new Set(leaks)]).toEqual([]);
}

import { inspect } from 'node:util';

/**
 * A value that must never be printed: card and bank numbers, CVVs, gateway keys.
 * Every way JavaScript turns an object into text (String(), template literals,
 * JSON.stringify, util.inspect, console.log) yields only the masked form, so a
 * log line or error that happens to contain one cannot leak it. The clear value
 * is reachable only through `reveal()`, which only validation, the mapping's value
 * transforms and the gateway encoder call (SECURITY.md).
 */
export class Secret {
  readonly #value: string;
  readonly masked: string;

  constructor(value: string, masked: string) {
    this.#value = value;
    this.masked = masked;
  }

  reveal(): string {
    return this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  toString(): string {
    return this.masked;
  }

  toJSON(): string {
    return this.masked;
  }

  [inspect.custom](): string {
    return this.masked;
  }

  [Symbol.toPrimitive](): string {
    return this.masked;
  }
}

/** The value that may be shown of a card number: its last 4 digits. */
export function lastDigits(value: string, count: number): string {
  return value.slice(-count);
}

export const secret = {
  cardNumber: (value: string) => new Secret(value, `****${lastDigits(value, 4)}`),
  /** Short bank account numbers show fewer digits, so that most of the number stays hidden. */
  bankAccount: (value: string) => new Secret(value, `****${lastDigits(value, bankAccountVisibleDigits(value))}`),
  hidden: (value: string) => new Secret(value, '[redacted]'),
};

export function bankAccountVisibleDigits(value: string): number {
  return value.length >= 10 ? 4 : 2;
}

export type MaybeSecret = string | Secret;

export function reveal(value: MaybeSecret): string {
  return value instanceof Secret ? value.reveal() : value;
}

/**
 * Text that came from outside (a gateway's error message) may quote what we sent.
 * Replace every secret of the current request that occurs in it by its mask.
 */
export function scrubSecrets(text: string, secrets: readonly Secret[]): string {
  let scrubbed = text;
  for (const value of secrets) {
    const clear = value.reveal();
    if (clear.length >= 3) scrubbed = scrubbed.split(clear).join(value.masked);
  }
  return scrubbed;
}

import { CAPTURE_FIELDS, type CaptureField } from './card-rules';
import type { ConnectorConfig } from './connector-call';
import { TwilioError } from './twilio-error';

/**
 * The options of one payment, read once for both flows: the Payments API's Create form
 * (PascalCase, `ChargeAmount`) and a TwiML `<Pay>` verb (camelCase, `chargeAmount`). Both
 * flows then capture, check, call the connector and report from these alone.
 */
export interface PayOptions {
  paymentMethod: 'credit-card' | 'ach-debit';
  chargeAmount?: string;
  currency: string;
  tokenType: TokenType;
  connectorName: string;
  connector: ConnectorConfig;
  validCardTypes: string[];
  securityCode: boolean;
  /** true, false, or (`<Pay>` only) a literal postal code passed on without prompting. */
  postalCode: boolean | string;
  minPostalCodeLength: number;
  timeoutSeconds: number;
  /** Only for ach-debit; a card payment has none. */
  bankAccountType?: string;
  description?: string;
  parameters: Record<string, string>;
  /** The fields the caller types twice (`RequireMatchingInputs`, `<Prompt requireMatchingInputs>`). */
  requireMatchingInputs: CaptureField[];
  /** `Confirmation=true`: the caller confirms the last digits with 1, or cancels with 2. */
  confirmation: boolean;
}

export const TOKEN_TYPES = ['one-time', 'reusable', 'payment-method'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];
const BANK_ACCOUNT_TYPES = ['consumer-checking', 'consumer-savings', 'commercial-checking'];
/** What `RequireMatchingInputs` may list (Twilio's OpenAPI description). */
export const MATCHABLE_FIELDS: readonly CaptureField[] = ['payment-card-number', 'expiration-date', 'security-code', 'postal-code'];

/** Payments API form fields or `<Pay>` attributes. */
export type OptionsDialect = 'payments-api' | 'twiml';

export interface OptionSources {
  /** Reads an option by its Payments API name (`ChargeAmount`); `<Pay>` reads `chargeAmount`. */
  dialect: OptionsDialect;
  values: Record<string, string | undefined>;
  connectors: Record<string, ConnectorConfig>;
  /** Connector parameters: the Create's `Parameter` JSON, or the `<Parameter>` nouns. */
  parameters: Record<string, string>;
  /** `<Pay>` takes these from its `<Prompt requireMatchingInputs="true">`s; the API from `RequireMatchingInputs`. */
  requireMatchingInputs?: CaptureField[];
}

const lowerFirst = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);

/** Reads and checks the options; a value Twilio would refuse throws its error. */
export function readPayOptions(sources: OptionSources): PayOptions {
  const read = (name: string): string | undefined => sources.values[sources.dialect === 'twiml' ? lowerFirst(name) : name];
  const paymentMethod = read('PaymentMethod') || 'credit-card';
  if (paymentMethod !== 'credit-card' && paymentMethod !== 'ach-debit') throw new TwilioError(400, 64013, 'PaymentMethod is not supported');
  const bankAccountType = read('BankAccountType') || undefined;
  if (paymentMethod === 'credit-card' && bankAccountType) throw new TwilioError(400, 64017, 'BankAccountType cannot be used with PaymentMethod credit-card');
  if (bankAccountType && !BANK_ACCOUNT_TYPES.includes(bankAccountType)) throw new TwilioError(400, 64020, `BankAccountType must be one of ${BANK_ACCOUNT_TYPES.join(', ')}`);
  const connectorName = read('PaymentConnector') || 'Default';
  const connector = sources.connectors[connectorName];
  if (!connector) throw new TwilioError(400, 64004, 'PaymentConnector does not match an installed connector');
  const amount = read('ChargeAmount');
  if (amount !== undefined && amount !== '' && !(/^\d+(\.\d{1,2})?$/.test(amount) && Number(amount) < 1_000_000)) {
    throw new TwilioError(400, 64003, 'ChargeAmount must be a positive decimal below 1,000,000');
  }
  const tokenType = read('TokenType') || 'reusable';
  if (!(TOKEN_TYPES as readonly string[]).includes(tokenType)) throw new TwilioError(400, 64006, `TokenType must be one of ${TOKEN_TYPES.join(', ')}`);
  const input = read('Input');
  if (input && input !== 'dtmf') throw new TwilioError(400, 64020, 'Input supports dtmf only');
  const postalCode = read('PostalCode');
  return {
    paymentMethod,
    chargeAmount: amount === '' ? undefined : amount,
    currency: read('Currency') || (sources.dialect === 'twiml' ? 'usd' : 'USD'),
    tokenType: tokenType as TokenType,
    connectorName,
    connector,
    validCardTypes: (read('ValidCardTypes') || 'visa mastercard amex').split(/\s+/).filter(Boolean),
    securityCode: read('SecurityCode') !== 'false',
    // A literal postal code is a `<Pay>` feature; the API's PostalCode is a boolean.
    postalCode: postalCode === undefined || postalCode === '' || postalCode === 'true' ? true : postalCode === 'false' ? false : sources.dialect === 'twiml' ? postalCode : true,
    minPostalCodeLength: positiveNumberOr(read('MinPostalCodeLength'), 1, { min: 1, max: Number.MAX_SAFE_INTEGER }),
    timeoutSeconds: timeoutSecondsOf(read('Timeout')),
    bankAccountType: paymentMethod === 'ach-debit' ? (bankAccountType ?? 'consumer-checking') : undefined,
    description: read('Description'),
    parameters: sources.parameters,
    requireMatchingInputs: sources.requireMatchingInputs ?? matchingInputsOf(read('RequireMatchingInputs')),
    confirmation: sources.dialect === 'payments-api' && read('Confirmation') === 'true',
  };
}

/** `RequireMatchingInputs=payment-card-number,security-code`: the listed fields, each one Twilio allows. */
function matchingInputsOf(list: string | undefined): CaptureField[] {
  const fields = (list ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  for (const field of fields) {
    if (!MATCHABLE_FIELDS.includes(field as CaptureField)) throw new TwilioError(400, 64020, `RequireMatchingInputs may list ${MATCHABLE_FIELDS.join(', ')}`);
  }
  return [...new Set(fields as CaptureField[])];
}

export const isCaptureField = (name: string): name is CaptureField => (CAPTURE_FIELDS as readonly string[]).includes(name);

/**
 * A number given as a form field or TwiML attribute, kept within [min, max]; a value
 * that is absent, blank, not a number or not positive ("soon", "0", "-3") is `fallback`.
 */
export function positiveNumberOr(value: unknown, fallback: number, range: { min: number; max: number }): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(number) && number > 0 ? Math.min(range.max, Math.max(range.min, number)) : fallback;
}

/** Seconds allowed between digits (Payments `Timeout`, `<Pay timeout>`): default 5, maximum 600. */
export const timeoutSecondsOf = (value: unknown): number => positiveNumberOr(value, 5, { min: 1, max: 600 });

/** The Create's `Parameter` (or the form-field `parameters` of a `<Pay>`): a single-level JSON object. */
export function parseParameters(text: string | undefined): Record<string, string> {
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, String(value)]));
    }
  } catch {
    // answered below
  }
  throw new TwilioError(400, 21218, 'parameters must be a single-level JSON object');
}

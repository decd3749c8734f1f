import { createAjv } from '../ajv';
import { FieldTooLong, InvalidRequest, TooManyParameters } from '../errors';
import { Secret, lastDigits, bankAccountVisibleDigits, type MaybeSecret } from '../redaction/secret';
import { canonicalAmount, isBelowMaximum, isZeroAmount } from './amount';
import { cardBrand, type CardBrand } from './card-brand';
import { connectorRequestSchema, REQUEST_LIMITS } from './request-schema';
import { protect, SENSITIVE_REQUEST_FIELDS } from './sensitive-fields';
import type { ErrorObject } from 'ajv';

export type PaymentMethod = 'charge' | 'tokenize';
export type Tender = 'card' | 'ach';

export interface CardDetails {
  number: Secret;
  /** As sent: "8" or "08". The mapping decides the gateway's format. */
  expiryMonth: string;
  /** As sent: "27" or "2027". */
  expiryYear: string;
  cvv?: Secret;
  postalCode?: string;
  brand: CardBrand;
  last4: string;
}

export interface BankDetails {
  accountNumber: Secret;
  routingNumber: Secret;
  /** The last 2 to 4 digits, the only part that may be shown. */
  accountLast: string;
}

/** A validated Twilio request. Card and bank numbers are already `Secret`s. */
export interface PaymentRequest {
  method: PaymentMethod;
  transactionId: string;
  tender: Tender;
  card?: CardDetails;
  bank?: BankDetails;
  /** Two decimals, e.g. "10.00"; charges only. */
  amount?: string;
  /** Upper case, default USD; charges only. */
  currency?: string;
  description?: string;
  parameters: Record<string, string>;
  /**
   * Every field of the contract as sent, once valid (strings; the sensitive ones as Secrets),
   * by its Twilio name: what a mapping reads, besides the normalised values above.
   */
  fields: ReadonlyMap<string, MaybeSecret>;
}

const FIELDS = Object.keys(connectorRequestSchema.properties) as Array<keyof typeof connectorRequestSchema.properties>;

// Numbers are accepted where Twilio sends strings (e.g. "amount": 10.5): tolerant on input.
const validate = createAjv({ coerceTypes: true }).compile(connectorRequestSchema);

/**
 * Checks the body Twilio sent and turns it into a PaymentRequest. Only formats are
 * checked: whether a card has expired or its brand is accepted is for the gateway.
 * Unknown keys are ignored. `methodFromPath` serves the legacy /charge and /tokenize.
 */
export function parsePaymentRequest(body: Record<string, unknown>, methodFromPath?: PaymentMethod): PaymentRequest {
  // JSON.parse has already rounded a card or bank number sent as a JSON number: another card's.
  const unquoted = [...SENSITIVE_REQUEST_FIELDS.keys()].filter((field) => body[field] !== undefined && body[field] !== null && !(body[field] instanceof Secret));
  if (unquoted.length > 0) {
    throw new InvalidRequest(`Invalid request: ${unquoted.map((field) => `${field} must be a string (a JSON number loses digits)`).join('; ')}`);
  }
  // Copy only the contract's keys: unknown ones are ignored, and the copy is what ajv coerces.
  const input: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const value = body[field];
    // The check needs the clear value; it lives in this local copy only until the Secrets are built.
    if (Object.hasOwn(body, field) && value !== undefined) input[field] = value instanceof Secret ? value.reveal() : value;
  }
  if (input.method === undefined && methodFromPath) input.method = methodFromPath;

  if (!validate(input)) throw problemsFound(validate.errors ?? []);
  const fields = input as Record<string, string | null | undefined> & {
    description?: string | object | null;
    parameters?: Record<string, string | number | boolean | null> | null;
  };

  const method = fields.method as PaymentMethod;
  const description = descriptionText(fields.description);
  if (description !== undefined && description.length > REQUEST_LIMITS.descriptionChars) {
    throw new FieldTooLong(`description is longer than ${REQUEST_LIMITS.descriptionChars} characters`);
  }
  const problems: string[] = [];
  const tender = chooseTender(fields, problems);
  const { amount, currency } = checkAmount(method, fields, problems);
  if (problems.length > 0) throw new InvalidRequest(`Invalid request: ${problems.join('; ')}`);

  const sent = sentFields(fields);
  return {
    method,
    transactionId: fields.transaction_id as string,
    tender,
    card: tender === 'card' ? cardDetails(fields, sent) : undefined,
    bank: tender === 'ach' ? bankDetails(fields, sent) : undefined,
    amount,
    currency,
    description,
    parameters: flatParameters(fields.parameters),
    fields: sent,
  };
}

/** The flat fields as sent, each sensitive one protected again now that it has been checked. */
function sentFields(fields: Record<string, unknown>): ReadonlyMap<string, MaybeSecret> {
  const sent = new Map<string, MaybeSecret>();
  for (const [field, value] of Object.entries(fields)) {
    if (typeof value !== 'string') continue;
    sent.set(field, SENSITIVE_REQUEST_FIELDS.has(field) ? protect(field, value) : value);
  }
  return sent;
}

function chooseTender(fields: Record<string, unknown>, problems: string[]): Tender {
  const hasCard = fields.cardnumber !== undefined;
  const hasBank = fields.bankaccountnumber !== undefined;
  if (hasCard && hasBank) problems.push('send either cardnumber or bankaccountnumber, not both');
  if (!hasCard && !hasBank) problems.push('cardnumber or bankaccountnumber is required');
  return hasBank && !hasCard ? 'ach' : 'card';
}

function checkAmount(
  method: PaymentMethod,
  fields: Record<string, string | null | undefined | unknown>,
  problems: string[],
): { amount?: string; currency?: string } {
  const given = typeof fields.amount === 'string' ? fields.amount : undefined;
  const amount = given === undefined ? undefined : canonicalAmount(given);
  if (given !== undefined && amount === undefined) {
    problems.push('amount must have at most 2 decimal places');
    return {};
  }
  if (method === 'tokenize') {
    if (amount !== undefined && !isZeroAmount(amount)) problems.push('amount must be absent or "0" for tokenize');
    return {};
  }
  if (amount === undefined) problems.push('amount is required for charge');
  else if (isZeroAmount(amount)) problems.push('amount must be greater than 0 for charge');
  else if (!isBelowMaximum(amount)) problems.push('amount must be less than 1000000');
  const currency = typeof fields.currency_code === 'string' ? fields.currency_code.toUpperCase() : 'USD';
  return { amount, currency };
}

function cardDetails(fields: Record<string, string | null | undefined | unknown>, sent: ReadonlyMap<string, MaybeSecret>): CardDetails {
  const number = fields.cardnumber as string;
  return {
    number: sent.get('cardnumber') as Secret,
    expiryMonth: fields.expiry_month as string,
    expiryYear: fields.expiry_year as string,
    cvv: sent.get('cvv') as Secret | undefined,
    postalCode: typeof fields.postal_code === 'string' ? fields.postal_code : undefined,
    brand: cardBrand(number),
    last4: lastDigits(number, 4),
  };
}

function bankDetails(fields: Record<string, string | null | undefined | unknown>, sent: ReadonlyMap<string, MaybeSecret>): BankDetails {
  const account = fields.bankaccountnumber as string;
  return {
    accountNumber: sent.get('bankaccountnumber') as Secret,
    routingNumber: sent.get('routingnumber') as Secret,
    accountLast: lastDigits(account, bankAccountVisibleDigits(account)),
  };
}

/** Twilio has sent description as a string, a JSON string and an object: gateways get text. */
function descriptionText(description: string | object | null | undefined): string | undefined {
  if (description === null || description === undefined) return undefined;
  return typeof description === 'string' ? description : JSON.stringify(description);
}

function flatParameters(parameters: Record<string, string | number | boolean | null> | null | undefined) {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(parameters ?? {})) {
    if (value !== null) flat[key] = String(value);
  }
  return flat;
}

/** A limit broken gets its own code; otherwise INVALID_REQUEST with one sentence per field. */
function problemsFound(errors: ErrorObject[]): Error {
  const tooMany = errors.find((error) => error.keyword === 'maxProperties');
  if (tooMany) return new TooManyParameters(`parameters has more than ${REQUEST_LIMITS.parameters} keys`);
  const tooLong = errors.find((error) => error.keyword === 'maxLength');
  if (tooLong) {
    const [field, key] = tooLong.instancePath.split('/').slice(1);
    const limit = (tooLong.params as { limit: number }).limit;
    const what = tooLong.propertyName !== undefined ? 'a parameters name' : field === 'parameters' && key !== undefined ? parameterName(key) : field;
    return new FieldTooLong(`${what} is longer than ${limit} characters`);
  }
  return new InvalidRequest(`Invalid request: ${describeProblems(errors)}`);
}

/** One sentence per offending field, from the schema's own wording; never the value. */
function describeProblems(errors: ErrorObject[]): string {
  const problems = new Set<string>();
  for (const error of errors) {
    if (error.keyword === 'if') continue;
    if (error.keyword === 'required') {
      problems.add(`${(error.params as { missingProperty: string }).missingProperty} is required`);
      continue;
    }
    const [field, key] = error.instancePath.split('/').slice(1);
    const rule = field ? connectorRequestSchema.properties[field as keyof typeof connectorRequestSchema.properties] : undefined;
    if (!rule) problems.add('body must be a JSON object');
    else if (field === 'parameters' && key !== undefined) {
      problems.add(`${parameterName(key)} ${connectorRequestSchema.properties.parameters.additionalProperties.description}`);
    } else problems.add(`${field} ${rule.description}`);
  }
  return [...problems].join('; ');
}

/** A parameter's name may be echoed only when it cannot be a card or account number. */
function parameterName(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(key) && !/\d{6}/.test(key) ? `parameters.${key}` : 'a parameters value';
}

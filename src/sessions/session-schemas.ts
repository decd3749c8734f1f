import { createAjv, describeAjvError } from '../ajv';
import { ValidationFailed } from '../errors';
import { CARD_FIELDS, FIELD_KEYS, SESSION_STATES, SESSION_TYPES } from './session';

/** Twilio's validCardTypes values. */
const CARD_TYPES = ['visa', 'mastercard', 'amex', 'maestro', 'discover', 'optima', 'jcb', 'diners-club', 'enroute'] as const;

/** Free text a merchant sends: printable, and never a card or account number in disguise. */
const text = (maxLength: number, description: string) =>
  ({ type: 'string', minLength: 1, maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]*$', not: { pattern: '[0-9]{12}' }, description }) as const;

/** What every session type takes about the payment itself. */
const paymentProperties = {
  reference: text(255, "must be the merchant's own reference: printable, at most 255 characters, no card number"),
  amount: {
    type: 'string',
    pattern: '^(0*[1-9][0-9]{0,6}(\\.[0-9]{1,2})?|0*\\.(0[1-9]|[1-9][0-9]?))$',
    description: 'must be a decimal amount above 0 and below 10000000 with at most 2 decimals, such as "10.00" (absent to save the card without charging)',
  },
  currency: { type: 'string', pattern: '^[A-Za-z]{3}$', default: 'USD', description: 'must be a 3-letter ISO 4217 code' },
  payment_method: { enum: ['card', 'ach'], default: 'card', description: 'must be "card" or "ach"' },
  connector: { type: 'string', pattern: '^[A-Za-z0-9_ -]{1,64}$', description: "must be a Twilio payment connector's name" },
  description: text(255, 'must be printable, at most 255 characters, no card number'),
  customer: {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: text(100, 'must be printable, at most 100 characters'),
      postal_code: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$', description: 'must be letters and digits (at most 16)' },
      address: text(200, 'must be printable, at most 200 characters, no card number'),
      phone: { type: 'string', pattern: '^\\+[1-9][0-9]{6,14}$', description: 'must be an E.164 number such as +14155550100' },
    },
    description: 'must be an object of name, postal_code, address and phone',
  },
  parameters: {
    type: 'object',
    maxProperties: 20,
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$', not: { const: 'session_id' } },
    additionalProperties: text(255, 'must be printable text, at most 255 characters, no card number'),
    description: 'must be a flat object of at most 20 text values (session_id is set by the service)',
  },
  security_code: { type: 'boolean', default: true, description: 'must be true or false' },
  postal_code: { type: 'boolean', default: true, description: 'must be true or false' },
  valid_card_types: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...CARD_TYPES] }, description: `must list card types among ${CARD_TYPES.join(', ')}` },
  require_matching_inputs: { type: 'array', uniqueItems: true, items: { enum: [...CARD_FIELDS] }, description: `must list card fields among ${CARD_FIELDS.join(', ')}` },
} as const;

const callSid = { type: 'string', pattern: '^CA[0-9a-fA-F]{32}$', description: 'must be a Twilio call sid (CA and 32 hex digits)' } as const;

/** POST /v1/sessions with `type: "agent"`: each `description` is the rule in words, and becomes the error message. */
export const createSessionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'call_sid'],
  properties: {
    type: { const: 'agent', description: 'must be "agent"' },
    call_sid: callSid,
    ...paymentProperties,
    confirmation: { type: 'boolean', description: 'must be true or false' },
  },
} as const;

/** `<Pay language>` values (Twilio's SDK lists them). */
export const PAY_LANGUAGES = ['de-DE', 'en-AU', 'en-CA', 'en-GB', 'en-IN', 'en-IE', 'en-NZ', 'en-PH', 'en-ZA', 'en-US', 'es-ES', 'es-US', 'fr-CA', 'fr-FR', 'it-IT'] as const;

/** POST /v1/sessions with `type: "ivr"`: the payment as for an agent session, and how the hosted `<Pay>` runs and hands the call back. */
export const createIvrSessionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { const: 'ivr', description: 'must be "ivr"' },
    call_sid: callSid,
    ...paymentProperties,
    return_url: { type: 'string', maxLength: 2000, pattern: '^https?://[^\\s]+$', description: 'must be an absolute http(s) URL (https outside loopback) of at most 2000 characters' },
    language: { enum: [...PAY_LANGUAGES], description: `must be one of ${PAY_LANGUAGES.join(', ')}` },
    max_attempts: { type: 'integer', minimum: 1, maximum: 3, default: 1, description: 'must be 1, 2 or 3' },
    timeout: { type: 'integer', minimum: 1, maximum: 60, description: 'must be a number of seconds from 1 to 60' },
  },
} as const;

/** Seconds a payment link stays valid: 72 hours unless the merchant says otherwise, at most 30 days. */
export const LINK_LIFETIME_S = { default: 72 * 3600, min: 300, max: 30 * 24 * 3600 } as const;

/**
 * POST /v1/sessions with `type: "digital"`: the payment as for the other types, paid on the
 * service's own payment page from a link sent by SMS. `connector` names the gateway connector (a
 * mapping) the page charges through, with its configured credentials.
 */
export const createDigitalSessionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { const: 'digital', description: 'must be "digital"' },
    reference: paymentProperties.reference,
    amount: paymentProperties.amount,
    currency: paymentProperties.currency,
    payment_method: paymentProperties.payment_method,
    connector: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$', description: "must be a gateway connector's name (a mapping, such as payconex)" },
    description: paymentProperties.description,
    customer: paymentProperties.customer,
    parameters: paymentProperties.parameters,
    security_code: paymentProperties.security_code,
    postal_code: paymentProperties.postal_code,
    valid_card_types: paymentProperties.valid_card_types,
    call_sid: callSid,
    expires_in: {
      type: 'integer',
      minimum: LINK_LIFETIME_S.min,
      maximum: LINK_LIFETIME_S.max,
      default: LINK_LIFETIME_S.default,
      description: `must be a number of seconds from ${LINK_LIFETIME_S.min} to ${LINK_LIFETIME_S.max} (30 days)`,
    },
    send_sms: { type: 'boolean', default: true, description: 'must be true or false' },
  },
} as const;

/** Which body schema a POST /v1/sessions is checked against, by its `type`. */
export const sessionTypeSchema = {
  type: 'object',
  required: ['type'],
  properties: { type: { enum: [...SESSION_TYPES], description: `must be one of ${SESSION_TYPES.join(', ')}` } },
} as const;

interface PaymentBody {
  reference?: string;
  amount?: string;
  currency: string;
  payment_method: 'card' | 'ach';
  connector?: string;
  description?: string;
  customer?: { name?: string; postal_code?: string; address?: string; phone?: string };
  parameters?: Record<string, string>;
  security_code: boolean;
  postal_code: boolean;
  valid_card_types?: string[];
  require_matching_inputs?: Array<(typeof CARD_FIELDS)[number]>;
}

export interface CreateSessionBody extends PaymentBody {
  type: 'agent';
  call_sid: string;
  confirmation?: boolean;
}

export interface CreateIvrSessionBody extends PaymentBody {
  type: 'ivr';
  call_sid?: string;
  return_url?: string;
  language?: (typeof PAY_LANGUAGES)[number];
  max_attempts: number;
  timeout?: number;
}

export interface CreateDigitalSessionBody extends Omit<PaymentBody, 'require_matching_inputs'> {
  type: 'digital';
  call_sid?: string;
  expires_in: number;
  send_sms: boolean;
}

export const captureSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['field'],
  properties: { field: { enum: [...FIELD_KEYS], description: `must be one of ${FIELD_KEYS.join(', ')}` } },
} as const;

export const listQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    reference: { type: 'string', minLength: 1, maxLength: 255 },
    state: { enum: [...SESSION_STATES] },
    since: { type: 'string', format: 'date-time' },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
  },
} as const;

const bodies = createAjv({ useDefaults: true, coerceTypes: false });
// A query string has only strings: `limit=5` is read as the number it means.
const queries = createAjv({ useDefaults: true, coerceTypes: true });
const validators = new Map<object, ReturnType<typeof bodies.compile>>();

/** A query string (from the request's URL) checked against its schema, like a body. */
export function validatedQuery<T>(schema: object, url: string): T {
  const params = Object.fromEntries(new URL(url, 'http://local').searchParams);
  return validated<T>(schema, params, queries);
}

/** Checks a body (or query) against its schema, with defaults filled in; 422 naming each field and rule otherwise, never a value. */
export function validated<T>(schema: object, input: unknown, ajv = bodies): T {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  const copy = structuredClone(input ?? {});
  if (validate(copy)) return copy as T;
  const rules = (schema as { properties?: Record<string, { description?: string }> }).properties ?? {};
  const problems = new Set(
    (validate.errors ?? []).map((error) => {
      const field = error.instancePath.split('/')[1];
      if (error.keyword === 'required') return `${String((error.params as { missingProperty: string }).missingProperty)} is required`;
      if (error.keyword === 'additionalProperties' && !field) return describeAjvError(error).replace(/^\(root\): /, '');
      const rule = field ? rules[field]?.description : undefined;
      return rule ? `${field} ${rule}` : describeAjvError(error);
    }),
  );
  throw new ValidationFailed(`Invalid request: ${[...problems].join('; ')}`);
}

const fieldProgressSchema = {
  type: 'object',
  required: ['state', 'display', 'length', 'error'],
  properties: {
    state: { enum: ['empty', 'capturing', 'captured', 'invalid'] },
    display: { type: ['string', 'null'], description: 'The masked value once captured, e.g. "xxxx xxxx xxxx 1111"' },
    length: { type: 'integer', minimum: 0, description: 'Digits typed so far' },
    error: { type: ['string', 'null'], description: "Twilio's ErrorType, e.g. invalid-card-number" },
  },
} as const;

/** The session resource as every endpoint, event and webhook shows it (for /openapi.json and the tests). */
export const sessionResourceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'state', 'reference', 'amount', 'currency', 'payment_method', 'call_sid', 'connector', 'description', 'customer', 'created_at', 'updated_at', 'expires_at', 'fields', 'required', 'result'],
  properties: {
    id: { type: 'string', pattern: '^ps_[0-9a-f]{32}$' },
    type: { enum: [...SESSION_TYPES] },
    state: { enum: [...SESSION_STATES] },
    reference: { type: ['string', 'null'] },
    amount: { type: ['string', 'null'], description: 'null: the card (or bank account) is saved, not charged' },
    currency: { type: 'string' },
    payment_method: { enum: ['card', 'ach'] },
    call_sid: { type: ['string', 'null'] },
    connector: { type: 'string', description: "The Twilio payment connector's name" },
    description: { type: ['string', 'null'] },
    customer: { type: ['object', 'null'] },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    expires_at: { type: 'string', format: 'date-time' },
    fields: { type: 'object', propertyNames: { enum: [...FIELD_KEYS] }, additionalProperties: fieldProgressSchema },
    required: { type: 'array', items: { enum: [...FIELD_KEYS] } },
    result: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['error_code', 'error_message', 'twilio_error_code'],
          properties: {
            charge_id: { type: ['string', 'null'] },
            token_id: { type: ['string', 'null'] },
            error_code: { type: ['string', 'null'] },
            error_message: { type: ['string', 'null'] },
            twilio_error_code: { type: ['string', 'null'] },
            transaction_id: { type: ['string', 'null'], description: "The journal's transaction_id of the payment" },
            connector_parameters: { type: 'object', additionalProperties: { type: 'string' }, description: "The connector answer's parameters" },
            card_brand: { type: ['string', 'null'], description: 'Digital sessions: the brand of the card paid with (ach for a bank account)' },
            last4: { type: ['string', 'null'], description: 'Digital sessions: the last 4 digits of the card or account paid with' },
          },
        },
      ],
    },
    sms: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['state', 'error_code', 'sends'],
          properties: {
            state: { type: 'string', description: "Twilio's status of the last link message (queued, sent, delivered, undelivered, failed), or logged (SMS_MODE=log)" },
            error_code: { type: ['string', 'null'], description: "Twilio's error code of a message not delivered" },
            sends: { type: 'integer', minimum: 0, description: 'Link messages sent for this session' },
          },
        },
      ],
      description: 'Digital sessions: the link message',
    },
    customer_present: { type: 'boolean', description: 'Digital sessions: the customer has the payment page open (a heartbeat within 15 s)' },
    attempts: {
      type: 'object',
      required: ['made', 'allowed'],
      properties: { made: { type: 'integer', minimum: 0 }, allowed: { type: 'integer', minimum: 1 } },
      description: 'Digital sessions: payment attempts made on the link, and allowed (DIGITAL_MAX_ATTEMPTS)',
    },
  },
} as const;

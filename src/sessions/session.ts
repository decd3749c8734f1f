import { randomBytes } from 'node:crypto';

/**
 * How a session pays: `agent`, an agent drives Twilio's Payments API on a live call; `ivr`, the
 * caller pays alone in a `<Pay>` this service hosts, then goes back to the merchant's IVR;
 * `digital`, the customer pays on the service's own payment page, from a link sent by SMS.
 */
export const SESSION_TYPES = ['agent', 'ivr', 'digital'] as const;
export type SessionType = (typeof SESSION_TYPES)[number];

export const SESSION_STATES = ['created', 'capturing', 'processing', 'succeeded', 'failed', 'cancelled', 'expired'] as const;
export type SessionState = (typeof SESSION_STATES)[number];
/** A session in one of these never changes state again. */
export const FINAL_STATES: ReadonlySet<SessionState> = new Set(['succeeded', 'failed', 'cancelled', 'expired']);
/** At most one session per call is in one of these (a database index holds it). */
export const ACTIVE_STATES = ['created', 'capturing', 'processing'] as const;

export const CARD_FIELDS = ['card_number', 'expiry', 'security_code', 'postal_code'] as const;
export const BANK_FIELDS = ['routing_number', 'account_number'] as const;
export type FieldKey = (typeof CARD_FIELDS)[number] | (typeof BANK_FIELDS)[number];
export const FIELD_KEYS: readonly FieldKey[] = [...CARD_FIELDS, ...BANK_FIELDS];

/** How far the caller is with one field. Never a digit beyond what Twilio masks. */
export interface FieldProgress {
  state: 'empty' | 'capturing' | 'captured' | 'invalid';
  /** The masked value once captured: `xxxx xxxx xxxx 1111`, `xxx`, `*****3602`. */
  display: string | null;
  /** Digits typed so far (or captured). */
  length: number;
  /** Twilio's ErrorType for an invalid entry, e.g. `invalid-card-number`. */
  error: string | null;
}

export interface SessionResult {
  charge_id?: string | null;
  token_id?: string | null;
  error_code: string | null;
  error_message: string | null;
  twilio_error_code: string | null;
  /** The journal's `transaction_id` of the connector request that made the payment (IVR sessions). */
  transaction_id?: string | null;
  /** The connector answer's `parameters`, as `<Pay>` hands them back (`PayConnector_<key>`). */
  connector_parameters?: Record<string, string>;
  /** What a digital session's payment page paid with: the card's brand (or `ach`) and its last 4 digits. */
  card_brand?: string | null;
  last4?: string | null;
}

export interface Customer {
  name?: string;
  postal_code?: string;
  address?: string;
  phone?: string;
}

/** The session as every endpoint, event and webhook shows it: never a link that grants access, never a digit. */
export interface SessionResource {
  id: string;
  type: SessionType;
  state: SessionState;
  reference: string | null;
  amount: string | null;
  currency: string;
  payment_method: 'card' | 'ach';
  call_sid: string | null;
  connector: string;
  description: string | null;
  customer: Customer | null;
  created_at: string;
  updated_at: string;
  expires_at: string;
  fields: Partial<Record<FieldKey, FieldProgress>>;
  /** Fields still to collect. */
  required: FieldKey[];
  result: SessionResult | null;
  /** A digital session's link message: how the last one went, and how many were sent. */
  sms?: SmsProgress | null;
  /** A digital session's customer has the payment page open (its heartbeat arrived within 15 s). */
  customer_present?: boolean;
  /** A digital session's payment attempts: made so far, and allowed on its link. */
  attempts?: { made: number; allowed: number };
}

export interface SmsProgress {
  /** Twilio's message status (`queued`, `sent`, `delivered`, `undelivered`, `failed`), or `logged` (SMS_MODE=log). */
  state: string;
  /** Twilio's error code for a message not delivered. */
  error_code: string | null;
  sends: number;
}

/** What only the service needs to drive the session at Twilio. */
export interface SessionInternals {
  /** Twilio's payment sid (PK...), once Create Payment was accepted. */
  paymentSid?: string;
  /** What Create Payment asks Twilio for. */
  twilio: {
    connector: string;
    securityCode: boolean;
    postalCode: boolean;
    validCardTypes?: string[];
    requireMatchingInputs?: FieldKey[];
    confirmation?: boolean;
    parameters: Record<string, string>;
  };
  /** What the hosted `<Pay>` of an IVR session needs. */
  ivr?: IvrOptions;
  /** What a digital session's payment page needs. */
  digital?: DigitalState;
}

export interface DigitalState {
  /** The number the next payment attempt will have (`<session id>:<attempt>` is its transaction_id). */
  nextAttempt: number;
  /** Epoch ms until which the customer counts as present (the last heartbeat plus 15 s). */
  presenceUntil?: number;
  /** Twilio's sid of the last link message, to match its status callbacks. */
  messageSid?: string;
}

export interface IvrOptions {
  /** Where the call goes once the payment ends (POST, with session, state and reference added); none: a goodbye and a hang-up. */
  returnUrl?: string;
  /** `<Pay language>`, and the prompts file's language. */
  language?: string;
  maxAttempts: number;
  /** `<Pay timeout>`: seconds the caller may pause between digits. */
  timeout?: number;
}

/** A session as the store keeps it. */
export interface SessionRecord {
  resource: SessionResource;
  internals: SessionInternals;
  clientId: string;
  /** Grows with every change: events carry it, saves compare it. */
  version: number;
  idempotencyKey?: string;
  requestHash?: string;
}

/** `ps_` and 128 random bits: unguessable, and never reused. */
export function newSessionId(): string {
  return `ps_${randomBytes(16).toString('hex')}`;
}

export const isFinal = (state: SessionState) => FINAL_STATES.has(state);

/** The fields a session collects, in the order an agent usually asks for them. */
export function fieldsToCollect(method: 'card' | 'ach', options: { securityCode: boolean; postalCode: boolean }): FieldKey[] {
  if (method === 'ach') return [...BANK_FIELDS];
  return CARD_FIELDS.filter((field) => (field === 'security_code' ? options.securityCode : field === 'postal_code' ? options.postalCode : true));
}

export const emptyField = (): FieldProgress => ({ state: 'empty', display: null, length: 0, error: null });

import {
  CallerIsPaying,
  CardNumberFirst,
  NotAnAgentSession,
  FieldNotInSession,
  FieldsMissing,
  SessionEnded,
  SessionNotCapturing,
  SessionProcessing,
} from '../errors';
import { emptyField, isFinal, type FieldKey, type SessionInternals, type SessionRecord, type SessionResource, type SessionResult, type SessionState } from './session';
import type { TwilioStatus } from './twilio-status';

/** Something that happened to a session: the only inputs its state changes on. */
export type SessionEvent =
  /** Twilio accepted Create Payment: the caller's keypad is captured from now on. */
  | { kind: 'twilio-accepted'; paymentSid: string }
  /** Twilio refused Create Payment (or could not be reached): nothing will be collected. */
  | { kind: 'twilio-refused'; code: string | null; message: string }
  | { kind: 'capture-requested'; field: FieldKey }
  | { kind: 'complete-requested' }
  | { kind: 'cancelled' }
  | { kind: 'twilio-status'; status: TwilioStatus }
  /** Twilio fetched an IVR session's TwiML: its `<Pay>` runs on the call from now on. */
  | { kind: 'pay-started'; callSid: string | null; expiresAt: string }
  /** The `<Pay>` action request: how it ended, and the journal's record of the payment, if any. */
  | { kind: 'pay-ended'; status: TwilioStatus; transactionId: string | null }
  /** The payment page's heartbeat: the customer is there until `until`, having typed so many characters per field. */
  | { kind: 'customer-seen'; until: number; typed?: Partial<Record<FieldKey, number>> }
  /** No heartbeat for 15 s: the customer has left the payment page. */
  | { kind: 'customer-left' }
  /** The payment page's form was sent for attempt `attempt`. */
  | { kind: 'payment-submitted'; attempt: number }
  /** What the payment pipeline answered for attempt `attempt` (the journal's record of it). */
  | { kind: 'payment-finished'; attempt: number; approved: boolean; result: SessionResult }
  /** A link message was handed to Twilio (or logged), or could not be. */
  | { kind: 'sms-sent'; state: string; errorCode: string | null; messageSid?: string }
  /** Twilio's delivery status of the link message. */
  | { kind: 'sms-status'; messageSid: string; state: string; errorCode: string | null }
  /** Not finished in time (cancelled at Twilio first). */
  | { kind: 'expired' }
  /** A processing session whose final callback never came, settled from the journal record of its payment. */
  | { kind: 'settled-from-journal'; approved: boolean; result: SessionResult }
  /** A processing session whose payment never reached this service: nothing was charged. */
  | { kind: 'no-payment' };

export interface Transition {
  record: SessionRecord;
  /** False when the event changed nothing (a duplicate callback, one after the end). */
  changed: boolean;
  /** What happened, for the session's history. */
  action: string;
  /**
   * False for the progress of digits being typed: the stream shows each one, the history records
   * the field's capture (asked, captured, invalid), not each key press.
   */
  historic: boolean;
}

/**
 * The session's state machine: the one place its state, fields and result change. Pure: the
 * session as it was and an event in, the session as it is now out. An action the state does not
 * allow throws the session API's 409 for it; a Twilio callback never does (it may arrive twice,
 * or late, and a final state never goes back).
 */
export function apply(record: SessionRecord, event: SessionEvent, now: Date): Transition {
  const session = structuredClone(record.resource);
  const internals = structuredClone(record.internals);
  const unchanged: Transition = { record, changed: false, action: event.kind, historic: false };
  const state = session.state;

  switch (event.kind) {
    case 'twilio-accepted':
      if (state !== 'created') return unchanged;
      internals.paymentSid = event.paymentSid;
      session.state = 'capturing';
      break;
    case 'twilio-refused':
      if (isFinal(state)) return unchanged;
      session.state = 'failed';
      session.result = { ...noResult(session), error_code: 'TWILIO_REFUSED', error_message: event.message, twilio_error_code: event.code };
      break;
    case 'capture-requested': {
      allowCapture(session, event.field);
      session.fields[event.field] = { ...emptyField(), state: 'capturing' };
      if (!session.required.includes(event.field)) session.required.push(event.field);
      break;
    }
    case 'complete-requested':
      mustBeAgentSession(session);
      mustBeCapturing(state);
      if (session.required.length > 0) throw new FieldsMissing(`Still to collect: ${session.required.join(', ')}`);
      session.state = 'processing';
      break;
    case 'cancelled':
      if (state === 'processing') throw new SessionProcessing('The payment is being processed and can no longer be cancelled');
      if (isFinal(state)) throw new SessionEnded(`The session has ended (${state})`);
      if (state === 'capturing' && session.type === 'ivr') {
        throw new CallerIsPaying('The caller is paying in the IVR: the caller ends it with * or by hanging up, or the payment does');
      }
      session.state = 'cancelled';
      break;
    case 'expired':
      if (state !== 'created' && state !== 'capturing') return unchanged;
      session.state = 'expired';
      break;
    case 'pay-started':
      if (state !== 'created' || session.type !== 'ivr') return unchanged;
      session.state = 'capturing';
      session.call_sid ??= event.callSid;
      session.expires_at = event.expiresAt;
      break;
    case 'pay-ended':
      if (isFinal(state) || session.type !== 'ivr') return unchanged;
      // A result without one (a malformed request) cannot end the session: the sweeper will.
      if (event.status.result === undefined) return unchanged;
      applyStatus(session, event.status);
      session.result = {
        ...session.result!,
        transaction_id: event.transactionId,
        ...(event.status.connectorParameters ? { connector_parameters: event.status.connectorParameters } : {}),
      };
      break;
    case 'customer-seen': {
      if (session.type !== 'digital' || isFinal(state)) return unchanged;
      const digital = internals.digital!;
      // Only a heartbeat that changes what is shown is news; the others only move the deadline.
      digital.presenceUntil = event.until;
      if (state === 'created') session.state = 'capturing';
      session.customer_present = true;
      if (state !== 'processing') {
        for (const [field, length] of Object.entries(event.typed ?? {}) as Array<[FieldKey, number]>) {
          if (field in session.fields) session.fields[field] = { state: length > 0 ? 'capturing' : 'empty', display: null, length, error: null };
        }
      }
      break;
    }
    case 'customer-left':
      if (session.type !== 'digital' || internals.digital?.presenceUntil === undefined) return unchanged;
      delete internals.digital.presenceUntil;
      session.customer_present = false;
      break;
    case 'payment-submitted': {
      if (session.type !== 'digital') throw new NotAnAgentSession('Only a digital session is paid on the payment page');
      if (state !== 'created' && state !== 'capturing') return unchanged;
      if (event.attempt !== internals.digital!.nextAttempt) return unchanged;
      session.state = 'processing';
      session.attempts = { made: event.attempt, allowed: session.attempts?.allowed ?? event.attempt };
      break;
    }
    case 'payment-finished':
      if (session.type !== 'digital' || state !== 'processing' || event.attempt !== session.attempts?.made) return unchanged;
      settleDigital(session, internals, event.approved, event.result);
      break;
    case 'sms-sent': {
      if (session.type !== 'digital') return unchanged;
      session.sms = { state: event.state, error_code: event.errorCode, sends: (session.sms?.sends ?? 0) + 1 };
      if (event.messageSid) internals.digital!.messageSid = event.messageSid;
      else delete internals.digital!.messageSid;
      break;
    }
    case 'sms-status':
      // Only the last message's news: an earlier one's late callback says nothing of the link that works.
      if (session.type !== 'digital' || internals.digital?.messageSid !== event.messageSid || !session.sms) return unchanged;
      session.sms = { ...session.sms, state: event.state, error_code: event.errorCode };
      break;
    case 'settled-from-journal':
      if (session.type === 'digital' && state === 'processing') {
        settleDigital(session, internals, event.approved, event.result);
        break;
      }
      // An IVR session is settled from capturing too: its <Pay> may have charged without the action reaching us.
      if (state !== 'processing' && !(state === 'capturing' && session.type === 'ivr')) return unchanged;
      session.state = event.approved ? 'succeeded' : 'failed';
      session.result = event.result;
      break;
    case 'no-payment': {
      if (state !== 'processing') return unchanged;
      const result = { ...noResult(session), error_code: 'NO_PAYMENT', error_message: 'The payment never reached the service: nothing was charged' };
      // A digital session's link, still valid, takes the next attempt (if one is left).
      if (session.type === 'digital' && Date.parse(session.expires_at) > now.getTime()) {
        settleDigital(session, internals, false, result);
        break;
      }
      session.state = 'failed';
      session.result = result;
      break;
    }
    case 'twilio-status':
      if (isFinal(state)) return unchanged;
      applyStatus(session, event.status);
      break;
  }
  if (JSON.stringify(session) === JSON.stringify(record.resource) && JSON.stringify(internals) === JSON.stringify(record.internals)) return unchanged;
  session.updated_at = now.toISOString();
  return {
    record: { ...record, resource: session, internals, version: record.version + 1 },
    changed: true,
    action: event.kind === 'capture-requested' ? `capture ${event.field}` : event.kind,
    historic: !(
      (event.kind === 'twilio-status' && event.status.partial && session.state === state) ||
      (event.kind === 'customer-seen' && session.state === state && record.resource.customer_present === true)
    ),
  };
}

function mustBeCapturing(state: SessionState): void {
  if (state === 'capturing') return;
  if (state === 'processing') throw new SessionProcessing('The payment is being processed');
  if (isFinal(state)) throw new SessionEnded(`The session has ended (${state})`);
  throw new SessionNotCapturing('Twilio has not started capturing yet');
}

/**
 * A digital session's attempt ended: approved ends it; a decline leaves the link open for the next
 * attempt, with the fields cleared and the decline in `result`, until none is left.
 */
function settleDigital(session: SessionResource, internals: SessionInternals, approved: boolean, result: SessionResult): void {
  session.result = result;
  if (approved) {
    session.state = 'succeeded';
    return;
  }
  const { made, allowed } = session.attempts!;
  if (made >= allowed) {
    session.state = 'failed';
    return;
  }
  session.state = 'capturing';
  internals.digital!.nextAttempt = made + 1;
  for (const field of Object.keys(session.fields) as FieldKey[]) session.fields[field] = emptyField();
  session.required = Object.keys(session.fields) as FieldKey[];
}

function mustBeAgentSession(session: SessionResource): void {
  if (session.type !== 'agent') throw new NotAnAgentSession(`This session (${session.type}) is not driven by an agent: the caller types without being asked`);
}

function allowCapture(session: SessionResource, field: FieldKey): void {
  mustBeAgentSession(session);
  mustBeCapturing(session.state);
  if (!(field in session.fields)) throw new FieldNotInSession(`This session does not collect ${field}`);
  if (field === 'security_code' && session.fields.card_number?.state !== 'captured') {
    throw new CardNumberFirst('The security code can be asked for once the card number is captured: its length depends on the card');
  }
}

/** What a status callback says: the field being typed, an invalid entry, a captured value, the end. */
function applyStatus(session: SessionResource, status: TwilioStatus): void {
  const field = status.capture;
  if (field && field in session.fields) {
    if (status.partial) {
      session.fields[field] = { state: 'capturing', display: null, length: status.typed[field] ?? 0, error: null };
    } else if (status.errorType) {
      session.fields[field] = { state: 'invalid', display: null, length: 0, error: status.errorType };
    } else if (status.shown[field] !== undefined) {
      session.fields[field] = { state: 'captured', display: status.shown[field]!, length: status.typed[field] ?? 0, error: null };
      // <Pay>'s callbacks list nothing as required: a captured field is simply no longer so.
      if (!status.required) session.required = session.required.filter((key) => key !== field);
    }
  }
  if (status.processing && session.state === 'capturing') session.state = 'processing';
  // Values shown beside the one being captured (the final callback shows them all).
  for (const [key, shown] of Object.entries(status.shown) as Array<[FieldKey, string]>) {
    const progress = session.fields[key];
    if (key !== field && progress?.state === 'captured') progress.display = shown;
  }
  if (status.required) session.required = status.required.filter((key) => key in session.fields);
  if (status.result === undefined) return;

  if (status.result === 'success') {
    session.state = 'succeeded';
    const id = status.confirmationCode ?? status.token ?? null;
    session.result = { ...(session.amount ? { charge_id: id } : { token_id: id }), error_code: null, error_message: null, twilio_error_code: null };
  } else if (status.result === 'caller-interrupted-with-star' || status.result === 'caller-hung-up') {
    session.state = 'cancelled';
    session.result = { ...noResult(session), error_code: status.result, error_message: null, twilio_error_code: null };
  } else {
    session.state = 'failed';
    session.result = {
      ...noResult(session),
      error_code: status.connectorError ?? status.result,
      error_message: status.paymentError ?? null,
      twilio_error_code: status.payErrorCode ?? null,
    };
  }
}

function noResult(session: SessionResource): SessionResult {
  return { ...(session.amount ? { charge_id: null } : { token_id: null }), error_code: null, error_message: null, twilio_error_code: null };
}

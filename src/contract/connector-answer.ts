import { BridgeError, InternalError, PaymentFailure } from '../errors';
import { describeUnexpected, type Logger } from '../logging/logger';
import type { PaymentMethod } from './payment-request';

/**
 * What the connector answers. All three keys are always present; on failure the
 * id key is null. `parameters` reaches the <Pay> action as PayConnector_<key>.
 */
export type ConnectorAnswer = {
  [idKey in IdKey]?: string | null;
} & {
  error_code: string | null;
  error_message: string | null;
  parameters?: Record<string, string>;
};

export type IdKey = 'charge_id' | 'token_id';

/** The answer as a JSON Schema, for the OpenAPI document (and the tests that read it). */
export function connectorAnswerSchema(idKey: IdKey) {
  return {
    type: 'object',
    additionalProperties: false,
    required: [idKey, 'error_code', 'error_message'],
    properties: {
      [idKey]: { type: ['string', 'null'], description: idKey === 'charge_id' ? 'The gateway transaction id; null on failure' : 'The token; null on failure' },
      error_code: { type: ['string', 'null'], description: "null on success; the gateway's code or a service code (README)" },
      error_message: { type: ['string', 'null'] },
      parameters: { type: 'object', additionalProperties: { type: 'string' }, description: 'Handed to the <Pay> action as PayConnector_<key>' },
    },
  } as const;
}

/** An answer as it goes on the wire, and as the journal keeps it for replays, byte for byte. */
export interface WireAnswer {
  httpStatus: number;
  body: string;
}

export function idKeyFor(method: PaymentMethod): IdKey {
  return method === 'tokenize' ? 'token_id' : 'charge_id';
}

/**
 * What an answer this service wrote says, read back (from the journal, or from the pipeline's
 * outcome): its `charge_id` or `token_id`, its error code and message; null for what it lacks.
 */
export function readWireAnswer(method: PaymentMethod, body: string | undefined): { id: string | null; errorCode: string | null; errorMessage: string | null } {
  let answered: Record<string, unknown> = {};
  try {
    answered = JSON.parse(body ?? '{}') as Record<string, unknown>;
  } catch {
    answered = {};
  }
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return { id: text(answered[idKeyFor(method)]), errorCode: text(answered.error_code), errorMessage: text(answered.error_message) };
}

export function approvedAnswer(method: PaymentMethod, id: string, parameters?: Record<string, string>): WireAnswer {
  return wire(200, withParameters({ [idKeyFor(method)]: id, error_code: null, error_message: null }, parameters));
}

export function declinedAnswer(
  method: PaymentMethod,
  errorCode: string,
  errorMessage: string,
  parameters?: Record<string, string>,
): WireAnswer {
  return wire(200, withParameters({ [idKeyFor(method)]: null, error_code: errorCode, error_message: errorMessage }, parameters));
}

/** A failure as it is answered and as the request's log line tells it. */
export interface AnsweredFailure {
  answer: WireAnswer;
  failure: BridgeError;
  /** `error`: a payment failure Twilio hears about (HTTP 200); `rejected`: the request itself was refused. */
  outcome: 'error' | 'rejected';
}

export interface FailureContext {
  /** Which id key the answer carries (charge_id or token_id). */
  method: PaymentMethod;
  /** Where an unexpected error (a bug) is logged; never by its message, which may quote input. */
  logger?: Logger;
  requestId?: string;
  /** The gateway may have received the payment: an unexpected error then asks for reconciliation. */
  gatewayCalled?: boolean;
}

/**
 * The one place where any failure becomes the contract's answer: a BridgeError with its own
 * status and stable code; anything else is a bug, answered INTERNAL_ERROR and logged here, once,
 * by its type and stack frames.
 */
export function answerFailure(error: unknown, context: FailureContext): AnsweredFailure {
  let failure: BridgeError;
  if (error instanceof BridgeError) failure = error;
  else {
    context.logger?.error('unexpected error', { request_id: context.requestId, ...describeUnexpected(error) });
    failure = new InternalError(
      context.gatewayCalled
        ? 'The service failed unexpectedly; reconcile this payment with the gateway'
        : 'The service failed unexpectedly; the request was not sent to the gateway',
    );
  }
  return {
    failure,
    outcome: failure instanceof PaymentFailure ? 'error' : 'rejected',
    answer: wire(failure.httpStatus, { [idKeyFor(context.method)]: null, error_code: failure.code, error_message: failure.message }),
  };
}

function wire(httpStatus: number, answer: ConnectorAnswer): WireAnswer {
  return { httpStatus, body: JSON.stringify(answer) };
}

function withParameters(answer: ConnectorAnswer, parameters?: Record<string, string>): ConnectorAnswer {
  return parameters && Object.keys(parameters).length > 0 ? { ...answer, parameters } : answer;
}

/**
 * Every failure the service answers is one of these. Each carries a stable `code`
 * (documented in the README) and a message written by this service, never text
 * copied from input, so no card data can travel in it. The HTTP layer turns them
 * into the connector's answer in one place (src/http/answer-error.ts).
 */
export abstract class BridgeError extends Error {
  abstract readonly code: string;
  abstract readonly httpStatus: number;

  /** When set, the answer says when to try again (Retry-After). */
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

// ---- Transport problems: the request never became a payment. Own HTTP status.

export class MalformedBody extends BridgeError {
  readonly code = 'MALFORMED_BODY';
  readonly httpStatus = 400;
}

/** The body nests too deep or has too many keys. */
export class BodyTooComplex extends BridgeError {
  readonly code = 'BODY_TOO_COMPLEX';
  readonly httpStatus = 400;
}

/** The body has a `__proto__`, `constructor` or `prototype` key somewhere. */
export class ForbiddenKey extends BridgeError {
  readonly code = 'FORBIDDEN_KEY';
  readonly httpStatus = 400;
}

export class Unauthorized extends BridgeError {
  readonly code = 'UNAUTHORIZED';
  readonly httpStatus = 401;
}

/**
 * A session API access token that is malformed, forged, expired, or whose client has since been
 * removed or re-registered (answered with `error="invalid_token"`, RFC 6750). A missing token is a
 * plain Unauthorized.
 */
export class InvalidAccessToken extends Unauthorized {
  constructor(
    message: string,
    /** Signed by this service (expired, or its client since removed): not a guess, so not counted as a failed authentication. */
    readonly signedByUs = false,
  ) {
    super(message);
  }
}

/** The access token is valid but does not grant the scope the operation needs (RFC 6750 `insufficient_scope`). */
export class InsufficientScope extends BridgeError {
  readonly code = 'INSUFFICIENT_SCOPE';
  readonly httpStatus = 403;

  constructor(
    message: string,
    readonly requiredScope: string,
  ) {
    super(message);
  }
}

/** A query string the reconciliation API cannot use. */
export class InvalidQuery extends BridgeError {
  readonly code = 'INVALID_QUERY';
  readonly httpStatus = 400;
}

/** Too many failed authentications from one address (and account) in the window. */
export class TooManyAuthFailures extends BridgeError {
  readonly code = 'TOO_MANY_AUTH_FAILURES';
  readonly httpStatus = 429;
}

/**
 * Client secrets are checked (scrypt) a few at a time with a short queue: beyond it a request is
 * refused at once, so a flood of guesses cannot take the CPU.
 */
export class TooManyCredentialChecks extends BridgeError {
  readonly code = 'TOO_MANY_CREDENTIAL_CHECKS';
  readonly httpStatus = 503;
}

/**
 * Too many connections or requests that have not authenticated yet, from this address or in
 * all (MAX_UNAUTHENTICATED_*): refused at once, before anything is read.
 */
export class TooManyConnections extends BridgeError {
  readonly code = 'TOO_MANY_CONNECTIONS';
  readonly httpStatus = 503;
}

export class NotFound extends BridgeError {
  readonly code = 'NOT_FOUND';
  readonly httpStatus = 404;
}

/** An operator asked to retry a webhook event that was already delivered. */
export class WebhookAlreadyDelivered extends BridgeError {
  readonly code = 'WEBHOOK_ALREADY_DELIVERED';
  readonly httpStatus = 409;
}

export class MethodNotAllowed extends BridgeError {
  readonly code = 'METHOD_NOT_ALLOWED';
  readonly httpStatus = 405;
}

/** The HTTP request itself could not be parsed (a bad request line or header). */
export class MalformedRequest extends BridgeError {
  readonly code = 'MALFORMED_REQUEST';
  readonly httpStatus = 400;
}

/** The client did not send its whole request in time (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS). */
export class RequestTimeout extends BridgeError {
  readonly code = 'REQUEST_TIMEOUT';
  readonly httpStatus = 408;
}

/** The request's headers are larger than MAX_HEADER_BYTES, or its Authorization header larger than 2 KB. */
export class HeadersTooLarge extends BridgeError {
  readonly code = 'HEADERS_TOO_LARGE';
  readonly httpStatus = 431;
}

export class PayloadTooLarge extends BridgeError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  readonly httpStatus = 413;
}

export class UnsupportedEncoding extends BridgeError {
  readonly code = 'UNSUPPORTED_ENCODING';
  readonly httpStatus = 415;
}

export class InternalError extends BridgeError {
  readonly code = 'INTERNAL_ERROR';
  readonly httpStatus = 500;
}

// ---- Payment failures: outcomes Twilio can cause or must hear about. HTTP 200.

export abstract class PaymentFailure extends BridgeError {
  readonly httpStatus = 200;
}

/** A field is missing or malformed, or a mapped field the gateway requires came out empty. */
export class InvalidRequest extends PaymentFailure {
  readonly code = 'INVALID_REQUEST';
}

/** A field (transaction_id, description, a parameter name or value) is longer than its limit. */
export class FieldTooLong extends PaymentFailure {
  readonly code = 'FIELD_TOO_LONG';
}

/** `parameters` has more keys than the limit. */
export class TooManyParameters extends PaymentFailure {
  readonly code = 'TOO_MANY_PARAMETERS';
}

/** The connector's mapping does not offer this method or tender (e.g. ACH on a card-only gateway). */
export class UnsupportedPayment extends PaymentFailure {
  readonly code = 'UNSUPPORTED_PAYMENT';
}

/** The gateway could not be reached: nothing was sent, so nothing was charged. */
export class GatewayUnreachable extends PaymentFailure {
  readonly code = 'GATEWAY_UNREACHABLE';
}

/** The gateway did not answer before GATEWAY_TIMEOUT_MS. Whether it charged is unknown. */
export class GatewayTimeout extends PaymentFailure {
  readonly code = 'GATEWAY_TIMEOUT';
}

/** The connection broke after the request was sent. Whether it charged is unknown. */
export class GatewayNoResponse extends PaymentFailure {
  readonly code = 'GATEWAY_NO_RESPONSE';
}

/** The gateway answered with an HTTP status other than 2xx (a redirect included). */
export class GatewayHttpError extends PaymentFailure {
  readonly code = 'GATEWAY_HTTP_ERROR';
}

/** The gateway answered 2xx with a body that cannot be read as the mapping expects. */
export class GatewayBadResponse extends PaymentFailure {
  readonly code = 'GATEWAY_BAD_RESPONSE';
}

/** The gateway refused the transaction without giving a code of its own. */
export class GatewayRejected extends PaymentFailure {
  readonly code = 'GATEWAY_REJECTED';
}

/** The same transaction_id was used before for a different payment (amount, card, method...). */
export class TransactionIdReused extends PaymentFailure {
  readonly code = 'TRANSACTION_ID_REUSED';
}

/** The first request with this transaction_id is still running and this one cannot wait longer. */
export class TransactionInProgress extends PaymentFailure {
  readonly code = 'TRANSACTION_IN_PROGRESS';
}

/** An earlier attempt with this transaction_id may or may not have charged: an operator must reconcile it. */
export class OutcomeUnknown extends PaymentFailure {
  readonly code = 'OUTCOME_UNKNOWN';
}

/** The journal cannot record the claim, so the gateway is not called: nothing was charged. */
export class JournalUnavailable extends PaymentFailure {
  readonly code = 'JOURNAL_UNAVAILABLE';
}

// ---- Start-up problems: the service refuses to run.

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class ConfigError extends StartupError {}

/** A mapping file is invalid; the message names the file and the path inside it. */
export class MappingError extends StartupError {}

// ---- The session API (stage 2): answered as {"error": {"code", "message"}}.

/** A session the client does not have (another client's is the same: a 404). */
export class SessionNotFound extends BridgeError {
  readonly code = 'SESSION_NOT_FOUND';
  readonly httpStatus = 404;
}

/** A body that fails the endpoint's schema; the message names each field and its rule. */
export class ValidationFailed extends BridgeError {
  readonly code = 'VALIDATION_FAILED';
  readonly httpStatus = 422;
}

/** The same Idempotency-Key was used with a different body. */
export class IdempotencyKeyReused extends BridgeError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  readonly httpStatus = 409;
}

/** The call already has a session that has not ended: one at a time per call. */
export class CallHasActiveSession extends BridgeError {
  readonly code = 'CALL_HAS_ACTIVE_SESSION';
  readonly httpStatus = 409;
}

/** Capture and complete need a session that is capturing. */
export class SessionNotCapturing extends BridgeError {
  readonly code = 'SESSION_NOT_CAPTURING';
  readonly httpStatus = 409;
}

/** Complete needs every field captured. */
export class FieldsMissing extends BridgeError {
  readonly code = 'FIELDS_MISSING';
  readonly httpStatus = 409;
}

/** The field is not one this session collects (a bank field on a card session, a security code it does not ask for). */
export class FieldNotInSession extends BridgeError {
  readonly code = 'FIELD_NOT_IN_SESSION';
  readonly httpStatus = 409;
}

/** Twilio needs the card's brand to know the security code's length: the card number comes first. */
export class CardNumberFirst extends BridgeError {
  readonly code = 'CARD_NUMBER_FIRST';
  readonly httpStatus = 409;
}

/** The payment is being processed: it can no longer be cancelled or changed. */
export class SessionProcessing extends BridgeError {
  readonly code = 'SESSION_PROCESSING';
  readonly httpStatus = 409;
}

/** An agent's action (capture, complete) on a session no agent drives (IVR, digital). */
export class NotAnAgentSession extends BridgeError {
  readonly code = 'NOT_AN_AGENT_SESSION';
  readonly httpStatus = 409;
}

/** The caller is in an IVR session's `<Pay>`: only the caller (`*`, hang-up) or the payment's end stops it. */
export class CallerIsPaying extends BridgeError {
  readonly code = 'CALLER_IS_PAYING';
  readonly httpStatus = 409;
}

/** The session has ended (succeeded, failed, cancelled or expired). */
export class SessionEnded extends BridgeError {
  readonly code = 'SESSION_ENDED';
  readonly httpStatus = 409;
}

/** Twilio refused the request (its error code is in the message and the session's result). */
export class TwilioRefused extends BridgeError {
  readonly code = 'TWILIO_REFUSED';
  readonly httpStatus = 409;

  constructor(
    message: string,
    /** Twilio's own error code (64021, 20404...), when it gave one. */
    readonly twilioCode: string | null = null,
  ) {
    super(message);
  }
}

/** Twilio could not be reached or did not answer: nothing changed at Twilio as far as the service knows. */
export class TwilioUnavailable extends BridgeError {
  readonly code = 'TWILIO_UNAVAILABLE';
  readonly httpStatus = 502;
}

/** The client already holds as many event streams as it may (MAX_EVENT_STREAMS_PER_CLIENT). */
export class TooManyStreams extends BridgeError {
  readonly code = 'TOO_MANY_STREAMS';
  readonly httpStatus = 429;
}

/** A request that says it is Twilio's carries no X-Twilio-Signature. */
export class MissingSignature extends BridgeError {
  readonly code = 'MISSING_SIGNATURE';
  readonly httpStatus = 400;
}

/** A request that says it is Twilio's carries a signature Twilio did not make (forged, or changed on the way). */
export class InvalidSignature extends BridgeError {
  readonly code = 'INVALID_SIGNATURE';
  readonly httpStatus = 403;
}

// ---- The agent console (/console): answered in the session API's shape.

/** A console_url code that is unknown, already used, or expired: links open once, within CONSOLE_LINK_TTL_S. */
export class ConsoleLinkInvalid extends BridgeError {
  readonly code = 'CONSOLE_LINK_INVALID';
  readonly httpStatus = 401;

  constructor(
    message: string,
    /** Not a code this service issued: a guess, counted as a failed authentication (a used or expired one is not). */
    readonly unknownCode = false,
  ) {
    super(message);
  }
}

/** A console API request with neither a signed-in agent's cookie nor a console token. */
export class ConsoleSignInRequired extends BridgeError {
  readonly code = 'CONSOLE_SIGN_IN_REQUIRED';
  readonly httpStatus = 401;
}

/** A state change from a signed-in console without its CSRF token (or with another's). */
export class CsrfTokenInvalid extends BridgeError {
  readonly code = 'CSRF_TOKEN_INVALID';
  readonly httpStatus = 403;
}

/** What a console opened from a console_url may not do (start another session): its desktop asks the session API. */
export class ConsoleLinkScope extends BridgeError {
  readonly code = 'CONSOLE_LINK_SCOPE';
  readonly httpStatus = 403;
}

/** An event stream ticket that is unknown, already used, expired, or for another session. */
export class StreamTicketInvalid extends BridgeError {
  readonly code = 'STREAM_TICKET_INVALID';
  readonly httpStatus = 401;
}

// ---- Digital sessions (pay by link): answered in the session API's shape, or as a page.

/** A digital session's connector has no gateway credentials configured (GATEWAY_CREDENTIALS_<NAME>_*): nothing could charge. */
export class ConnectorNotConfigured extends BridgeError {
  readonly code = 'CONNECTOR_NOT_CONFIGURED';
  readonly httpStatus = 422;
}

/** A link message to a number outside SMS_ALLOWED_COUNTRIES, or one that is no valid phone number. */
export class PhoneNotAllowed extends BridgeError {
  readonly code = 'PHONE_NOT_ALLOWED';
  readonly httpStatus = 422;
}

/** A link message asked for while SMS_MODE=twilio has no sender (TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID). */
export class SmsNotConfigured extends BridgeError {
  readonly code = 'SMS_NOT_CONFIGURED';
  readonly httpStatus = 422;
}

/** Too many link messages: to this number within the hour (SMS_PER_NUMBER_PER_HOUR), or for this session (5). */
export class SmsLimitReached extends BridgeError {
  readonly code = 'SMS_LIMIT_REACHED';
  readonly httpStatus = 429;
}

/** A payment link past its expiry: nothing more can happen on it. */
export class LinkExpired extends BridgeError {
  readonly code = 'LINK_EXPIRED';
  readonly httpStatus = 410;
}

/** Too many requests to the payment page from one address or on one link. */
export class PageRateLimited extends BridgeError {
  readonly code = 'PAGE_RATE_LIMITED';
  readonly httpStatus = 429;
}

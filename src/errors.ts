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

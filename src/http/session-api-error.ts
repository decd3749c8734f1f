import type { Response } from 'express';
import { InsufficientScope, InvalidAccessToken, Unauthorized, type BridgeError } from '../errors';
import { findContext } from './request-context';

/** The realm of the session API's Bearer challenges. */
export const SESSIONS_REALM = 'sessions';

/** How the session API answers a failure: `{"error": {"code", "message"}}`, its status and headers. */
export interface SessionApiErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: { error: { code: string; message: string } };
}

/**
 * A BridgeError as the session API answers it, with the Bearer challenge RFC 6750 asks for: none
 * named when no token came, `invalid_token` for a bad one, `insufficient_scope` (and the scope
 * needed) for a valid one that may not do this.
 */
export function sessionApiErrorAnswer(error: BridgeError): SessionApiErrorAnswer {
  const headers: Record<string, string> = {};
  if (error instanceof InvalidAccessToken) headers['WWW-Authenticate'] = `Bearer realm="${SESSIONS_REALM}", error="invalid_token"`;
  else if (error instanceof Unauthorized) headers['WWW-Authenticate'] = `Bearer realm="${SESSIONS_REALM}"`;
  else if (error instanceof InsufficientScope) {
    headers['WWW-Authenticate'] = `Bearer realm="${SESSIONS_REALM}", error="insufficient_scope", scope="${error.requiredScope}"`;
  }
  if (error.retryAfterSeconds !== undefined) headers['Retry-After'] = String(error.retryAfterSeconds);
  return { status: error.httpStatus, headers, body: { error: { code: error.code, message: error.message } } };
}

/** Sends sessionApiErrorAnswer(error), and names its code in the request's log line. */
export function sendSessionApiError(res: Response, error: BridgeError): void {
  const answer = sessionApiErrorAnswer(error);
  const context = findContext(res);
  if (context) context.errorCode = error.code;
  if (res.headersSent) return;
  res.status(answer.status).set(answer.headers).json(answer.body);
}

import type { RequestHandler, Response } from 'express';
import { InsufficientScope, InvalidAccessToken, Unauthorized } from '../errors';
import type { AccessTokens } from '../security/access-tokens';
import type { Scope } from '../sessions/api-clients';
import type { AuthThrottle } from './auth-throttle';
import { contextOf, markAuthenticated } from './request-context';
import { SESSIONS_REALM } from './session-api-error';

/** The API client a session API request comes from, once its access token passed. */
export interface AuthenticatedClient {
  clientId: string;
  /** What its token grants now, implied scopes included. */
  scopes: Scope[];
}

export interface ClientAuthenticationOptions {
  tokens: Pick<AccessTokens, 'verify'>;
  throttle: AuthThrottle;
}

/**
 * `requireScope('sessions:write')`: the session API's authentication. `Authorization: Bearer
 * <access token>` verified (signature, expiry, audience, its client still registered), then the
 * scope; `apiClientOf(res)` tells the route who called. Failures throw the BridgeErrors that
 * sessionApiErrorAnswer turns into answers: 401 UNAUTHORIZED (no token), 401 with
 * `error="invalid_token"` (InvalidAccessToken), 403 INSUFFICIENT_SCOPE, 429 TOO_MANY_AUTH_FAILURES.
 *
 * Missing, malformed and forged tokens count as failed authentications (per address, and
 * together as the account `bearer:sessions`). A token this service signed that has expired, or
 * whose client was removed, does not: it is no guess, and an agent floor behind one address
 * renews its expired tokens every hour. Verification takes no I/O (HMAC), so nothing runs between
 * the throttle's check and its count.
 */
export function clientAuthentication({ tokens, throttle }: ClientAuthenticationOptions): (scope: Scope) => RequestHandler {
  return (scope) => async (req, res, next) => {
    const context = contextOf(res);
    const subject = { address: context.clientAddress, account: `bearer:${SESSIONS_REALM}` };
    throttle.check(subject);
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (match === null) {
      throttle.fail(subject);
      throw new Unauthorized('A Bearer access token is required (POST /oauth/token)');
    }
    let verified;
    try {
      verified = await tokens.verify(match[1]!);
    } catch (error) {
      if (!(error instanceof InvalidAccessToken && error.signedByUs)) throttle.fail(subject);
      throw error;
    }
    markAuthenticated(context);
    res.locals.apiClient = { clientId: verified.clientId, scopes: verified.scopes } satisfies AuthenticatedClient;
    if (!verified.scopes.includes(scope)) throw new InsufficientScope(`This needs an access token with the ${scope} scope`, scope);
    next();
  };
}

/** Who called, on a route behind requireScope. */
export function apiClientOf(res: Response): AuthenticatedClient {
  const client = res.locals.apiClient as AuthenticatedClient | undefined;
  if (!client) throw new Error('apiClientOf: the route is not behind requireScope');
  return client;
}

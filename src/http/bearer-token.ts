import type { RequestHandler } from 'express';
import { Unauthorized } from '../errors';
import { constantTimeMatcher } from '../redaction/constant-time';
import type { AuthThrottle } from './auth-throttle';
import { contextOf, markAuthenticated } from './request-context';

/**
 * `Authorization: Bearer <token>` against a configured token, compared in constant time. Failures
 * are throttled like Basic ones (per address, and per realm as the account guessed at).
 */
export function bearerAuthentication(token: string, realm: string, throttle: AuthThrottle): RequestHandler {
  const matches = constantTimeMatcher(token);
  return (req, res, next) => {
    const context = contextOf(res);
    context.bearerRealm = realm;
    const subject = { address: context.clientAddress, account: `bearer:${realm}` };
    throttle.check(subject);
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (match === null || !matches(match[1]!)) {
      throttle.fail(subject);
      throw new Unauthorized(`A valid ${realm === 'transactions' ? 'admin' : realm} Bearer token is required`);
    }
    markAuthenticated(context);
    next();
  };
}

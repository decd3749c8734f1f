import type { RequestHandler } from 'express';
import type { RateLimiterMemory as MemoryLimiter } from 'rate-limiter-flexible';
import { TooManyAuthFailures } from '../errors';
import { basicCredentials } from './credentials';
import { contextOf } from './request-context';

// The package's index loads every backend it supports (databases, ORMs): about 9 MB of memory
// for the one in-memory limiter used here, so that one is loaded alone.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RateLimiterMemory = require('rate-limiter-flexible/lib/RateLimiterMemory') as typeof MemoryLimiter;

/** Failed authentications (401 answers) are counted over this window. */
export const AUTH_FAILURE_WINDOW_SECONDS = 15 * 60;
/** Per address and gateway account: guessing one account's key. */
export const AUTH_FAILURES_PER_ACCOUNT = 10;
/** Per address, whatever the account: trying many accounts. */
export const AUTH_FAILURES_PER_ADDRESS = 100;

/**
 * Repeated failed authentication from one address is refused for the rest of the
 * window with 429 TOO_MANY_AUTH_FAILURES. Only 401 answers count, and only once
 * they are sent, so concurrent good requests are never slowed. Twilio's addresses are
 * shared by many merchants: an account whose credentials the gateway accepted from an
 * address in the window is exempt from that address's limit (not from its own), so
 * broken connectors behind the same address cannot lock a working one out.
 */
export function authFailureThrottle(): RequestHandler {
  const window = { duration: AUTH_FAILURE_WINDOW_SECONDS };
  const perAddress = new RateLimiterMemory({ points: AUTH_FAILURES_PER_ADDRESS, ...window });
  const perAccount = new RateLimiterMemory({ points: AUTH_FAILURES_PER_ACCOUNT, ...window });
  const provenAccounts = new RateLimiterMemory({ points: 1, ...window });

  return async (req, res, next) => {
    const address = req.ip ?? 'unknown';
    const account = `${address}|${basicCredentials(req).username}`;
    const [byAddress, byAccount, proven] = await Promise.all([perAddress.get(address), perAccount.get(account), provenAccounts.get(account)]);
    const exhausted = [
      [proven ? null : byAddress, AUTH_FAILURES_PER_ADDRESS],
      [byAccount, AUTH_FAILURES_PER_ACCOUNT],
    ] as const;
    for (const [state, limit] of exhausted) {
      if (state && state.consumedPoints >= limit) {
        res.setHeader('Retry-After', String(Math.ceil(state.msBeforeNext / 1000)));
        throw new TooManyAuthFailures('Too many failed authentications from this address; try again later');
      }
    }
    res.on('finish', () => {
      if (res.statusCode === 401) {
        perAddress.penalty(address).catch(() => undefined);
        perAccount.penalty(account).catch(() => undefined);
        return;
      }
      // An approval or a decline means the gateway (or this service) accepted the credentials.
      const { outcome } = contextOf(res);
      // Renewed at most twice a window: a timer per payment would be wasted work.
      const fresh = proven && proven.msBeforeNext > (AUTH_FAILURE_WINDOW_SECONDS * 1000) / 2;
      if (!fresh && (outcome === 'approved' || outcome === 'declined')) {
        provenAccounts.set(account, 1, AUTH_FAILURE_WINDOW_SECONDS).catch(() => undefined);
      }
    });
    next();
  };
}

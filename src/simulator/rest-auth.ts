import type { Request } from 'express';
import { constantTimeMatcher } from '../redaction/constant-time';
import { ACCOUNT_SID, CALL_SID } from './call';
import { TwilioError, notFound } from './twilio-error';

/**
 * Twilio's REST authentication: HTTP Basic with the AccountSid of the path and its auth
 * token (one token for every account here). Sids follow the spec's patterns, upper- or
 * lower-case hex.
 */
export function restAuthentication(authToken: string) {
  const tokenMatches = constantTimeMatcher(authToken);
  const account = (req: Request): string => {
    const accountSid = String(req.params.accountSid);
    const [user = '', token = ''] = Buffer.from((req.get('authorization') ?? '').replace(/^Basic\s+/i, ''), 'base64').toString().split(':');
    if (!ACCOUNT_SID.test(accountSid) || user !== accountSid || !tokenMatches(token)) throw new TwilioError(401, 20003, 'Authenticate');
    return accountSid;
  };
  return {
    account,
    /** The account, and the call of the path, which must look like a CallSid. */
    call: (req: Request): { accountSid: string; callSid: string } => {
      const accountSid = account(req);
      const callSid = String(req.params.callSid);
      if (!CALL_SID.test(callSid)) throw notFound();
      return { accountSid, callSid };
    },
  };
}

export type RestAuthentication = ReturnType<typeof restAuthentication>;

/** A form field as a string; absent, repeated or not text is undefined. */
export function formField(req: Request, name: string): string | undefined {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

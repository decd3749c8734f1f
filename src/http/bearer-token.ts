import type { Request } from 'express';
import { constantTimeMatcher } from '../redaction/constant-time';

/** A check of `Authorization: Bearer <token>` against a configured token, in constant time. */
export function bearerTokenCheck(token: string): (req: Request) => boolean {
  const matches = constantTimeMatcher(token);
  return (req) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    return match !== null && matches(match[1]!);
  };
}

import { createHmac, randomBytes } from 'node:crypto';
import { errors as jose, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { InvalidAccessToken } from '../errors';
import { ACCESS_TOKEN_ISSUER } from './access-tokens';

/**
 * The console's two credentials, both JWTs (HS256) signed with a key derived from
 * TOKEN_SIGNING_KEY for the console alone (consoleTokenKey), each with its own `aud` and `typ`:
 * neither passes for a session API access token, nor the other way round.
 *
 * - A **console token** (`aud` paybridge:console): what a console opened from a console_url
 *   holds in page memory and sends as `Authorization: Bearer`. It names one session, the API
 *   client owning it and that client's registration (removing the client revokes it).
 * - A **sign-in** (`aud` paybridge:console-sign-in): the signed-in agent's cookie. It names the
 *   user and the user's registration (removing the user, or a new password, ends it) and a random
 *   `sid` that the CSRF tokens are bound to.
 */
export const CONSOLE_TOKEN_AUDIENCE = 'paybridge:console';
export const CONSOLE_SIGN_IN_AUDIENCE = 'paybridge:console-sign-in';
const CONSOLE_TOKEN_TYPE = 'console+jwt';
const SIGN_IN_TYPE = 'console-sign-in+jwt';
const CLOCK_TOLERANCE_S = 5;

export interface ConsoleTokenClaims {
  sessionId: string;
  clientId: string;
  /** The owning client's registration when the token was issued. */
  registration: string;
}

export interface SignInClaims {
  name: string;
  registration: string;
  /** Random per sign-in: the CSRF tokens are bound to it. */
  sid: string;
  expiresAt: Date;
}

export interface ConsoleTokenOptions {
  signingKey: string;
  previousSigningKey?: string;
  /** CONSOLE_TOKEN_TTL_S. */
  tokenTtlSeconds: number;
  /** CONSOLE_SESSION_TTL_S. */
  signInTtlSeconds: number;
  now?: () => number;
}

export class ConsoleTokens {
  private readonly keys: Uint8Array[];
  private readonly now: () => number;

  constructor(private readonly options: ConsoleTokenOptions) {
    this.keys = [consoleTokenKey(options.signingKey), ...(options.previousSigningKey ? [consoleTokenKey(options.previousSigningKey)] : [])];
    this.now = options.now ?? Date.now;
  }

  get tokenTtlSeconds(): number {
    return this.options.tokenTtlSeconds;
  }

  get signInTtlSeconds(): number {
    return this.options.signInTtlSeconds;
  }

  issueConsoleToken(claims: ConsoleTokenClaims): Promise<string> {
    return this.sign({ cid: claims.clientId, reg: claims.registration }, claims.sessionId, CONSOLE_TOKEN_AUDIENCE, CONSOLE_TOKEN_TYPE, this.options.tokenTtlSeconds);
  }

  async verifyConsoleToken(token: string): Promise<ConsoleTokenClaims> {
    const { sub, cid, reg } = await this.verified(token, CONSOLE_TOKEN_AUDIENCE, CONSOLE_TOKEN_TYPE);
    if (typeof sub !== 'string' || typeof cid !== 'string' || typeof reg !== 'string') throw new InvalidAccessToken('The console token is not valid');
    return { sessionId: sub, clientId: cid, registration: reg };
  }

  async issueSignIn(user: { name: string; registration: string }): Promise<{ value: string; sid: string; expiresAt: Date }> {
    const sid = randomBytes(16).toString('base64url');
    const value = await this.sign({ reg: user.registration, sid }, user.name, CONSOLE_SIGN_IN_AUDIENCE, SIGN_IN_TYPE, this.options.signInTtlSeconds);
    return { value, sid, expiresAt: new Date(this.now() + this.options.signInTtlSeconds * 1000) };
  }

  async verifySignIn(value: string): Promise<SignInClaims> {
    const { sub, reg, sid, exp } = await this.verified(value, CONSOLE_SIGN_IN_AUDIENCE, SIGN_IN_TYPE);
    if (typeof sub !== 'string' || typeof reg !== 'string' || typeof sid !== 'string' || typeof exp !== 'number') throw new InvalidAccessToken('The sign-in is not valid');
    return { name: sub, registration: reg, sid, expiresAt: new Date(exp * 1000) };
  }

  private sign(claims: Record<string, string>, subject: string, audience: string, type: string, ttlSeconds: number): Promise<string> {
    const issuedAt = Math.floor(this.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: type })
      .setSubject(subject)
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ttlSeconds)
      .sign(this.keys[0]!);
  }

  private async verified(token: string, audience: string, type: string): Promise<JWTPayload> {
    for (const key of this.keys) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          typ: type,
          issuer: ACCESS_TOKEN_ISSUER,
          audience,
          requiredClaims: ['sub', 'iat', 'exp'],
          clockTolerance: CLOCK_TOLERANCE_S,
          currentDate: new Date(this.now()),
        });
        return payload;
      } catch (error) {
        if (error instanceof jose.JWTExpired) throw new InvalidAccessToken('The console credential has expired', true);
        if (error instanceof jose.JWSSignatureVerificationFailed) continue;
        throw new InvalidAccessToken('The console credential is not valid');
      }
    }
    throw new InvalidAccessToken('The console credential is not valid');
  }
}

/** The console's HS256 key, derived from TOKEN_SIGNING_KEY for this purpose only (access tokens have their own). */
export function consoleTokenKey(signingKey: string): Uint8Array {
  return createHmac('sha256', signingKey).update('paybridge console tokens v1').digest();
}

import { createHmac, randomUUID } from 'node:crypto';
import { errors as jose, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { Config } from '../config/settings';
import { InvalidAccessToken } from '../errors';
import { impliedScopes, SCOPES, type ApiClient, type ApiClients, type Scope } from '../sessions/api-clients';
import { serviceKey } from './service-keys';

/** Fixed `iss` and `aud`: a token this service signed for another purpose (a console link) is not an access token. */
export const ACCESS_TOKEN_ISSUER = 'paybridge';
export const ACCESS_TOKEN_AUDIENCE = 'paybridge:sessions';
/** RFC 9068's media type for JWT access tokens, in the `typ` header. */
const TOKEN_TYPE = 'at+jwt';
/** Replicas' clocks may differ a little. */
const CLOCK_TOLERANCE_S = 5;

export interface IssuedAccessToken {
  accessToken: string;
  expiresIn: number;
  scopes: Scope[];
}

/** What a valid access token says, checked against the clients file as it is now. */
export interface VerifiedAccessToken {
  clientId: string;
  /** What the token grants and the client still holds, with what they imply (`sessions:write` implies `sessions:read`). */
  scopes: Scope[];
  tokenId: string;
  expiresAt: Date;
}

export interface AccessTokenOptions {
  /** TOKEN_SIGNING_KEY. */
  signingKey: string;
  /** TOKEN_SIGNING_KEY_PREVIOUS: what it signed still verifies (rotation). */
  previousSigningKey?: string;
  /** ACCESS_TOKEN_TTL_S. */
  ttlSeconds: number;
  clients: ApiClients;
  now?: () => number;
}

/**
 * Access tokens of the session API: JWTs (HS256) with `sub` = client id, `scope`, `iat`, `exp`,
 * `iss`, `aud`, `jti` and `reg` (the client's registration, so removing a client and adding it
 * again revokes its old tokens). Nothing is stored: any replica with the same key verifies them.
 */
export class AccessTokens {
  private readonly key: Uint8Array;
  private readonly previousKey?: Uint8Array;
  private readonly now: () => number;

  constructor(private readonly options: AccessTokenOptions) {
    this.key = accessTokenKey(options.signingKey);
    this.previousKey = options.previousSigningKey === undefined ? undefined : accessTokenKey(options.previousSigningKey);
    this.now = options.now ?? Date.now;
  }

  get ttlSeconds(): number {
    return this.options.ttlSeconds;
  }

  async issue(client: ApiClient, scopes: readonly Scope[]): Promise<IssuedAccessToken> {
    const issuedAt = Math.floor(this.now() / 1000);
    const granted = SCOPES.filter((scope) => scopes.includes(scope));
    const accessToken = await new SignJWT({ scope: granted.join(' '), reg: client.registration })
      .setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPE })
      .setSubject(client.clientId)
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.options.ttlSeconds)
      .setJti(randomUUID())
      .sign(this.key);
    return { accessToken, expiresIn: this.options.ttlSeconds, scopes: granted };
  }

  /** The token's client and scopes; InvalidAccessToken when it is malformed, forged, expired, or its client is gone. */
  async verify(token: string): Promise<VerifiedAccessToken> {
    const payload = await this.verifiedPayload(token);
    const { sub, jti, exp, scope, reg } = payload;
    const tokenScopes = typeof scope === 'string' ? scope.split(' ') : [];
    if (typeof sub !== 'string' || typeof jti !== 'string' || typeof exp !== 'number' || typeof reg !== 'string' || !tokenScopes.every(isScope)) {
      throw new InvalidAccessToken('The access token is not valid');
    }
    const client = this.options.clients.get(sub);
    if (!client || client.registration !== reg) throw new InvalidAccessToken("The access token's client is no longer registered", true);
    // A client whose scopes were narrowed in the file loses them at once, not when its tokens expire.
    const held = impliedScopes(client.scopes);
    const scopes = [...impliedScopes(tokenScopes as Scope[])].filter((granted) => held.has(granted));
    return { clientId: sub, scopes, tokenId: jti, expiresAt: new Date(exp * 1000) };
  }

  private async verifiedPayload(token: string): Promise<JWTPayload> {
    const keys = this.previousKey ? [this.key, this.previousKey] : [this.key];
    for (const key of keys) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          typ: TOKEN_TYPE,
          issuer: ACCESS_TOKEN_ISSUER,
          audience: ACCESS_TOKEN_AUDIENCE,
          requiredClaims: ['sub', 'iat', 'exp', 'jti', 'scope'],
          clockTolerance: CLOCK_TOLERANCE_S,
          currentDate: new Date(this.now()),
        });
        return payload;
      } catch (error) {
        // jose checks the signature before the claims: an expired token was signed by us.
        if (error instanceof jose.JWTExpired) throw new InvalidAccessToken('The access token has expired', true);
        if (error instanceof jose.JWSSignatureVerificationFailed) continue;
        throw new InvalidAccessToken('The access token is not valid');
      }
    }
    throw new InvalidAccessToken('The access token is not valid');
  }
}

/**
 * The HS256 key of access tokens, derived from TOKEN_SIGNING_KEY for this one purpose: the same
 * setting signs console links, and neither must ever pass for the other.
 */
export function accessTokenKey(signingKey: string): Uint8Array {
  return createHmac('sha256', signingKey).update('paybridge access tokens v1').digest();
}

function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** AccessTokens with TOKEN_SIGNING_KEY (required in production, otherwise generated once into DATA_DIR) and ACCESS_TOKEN_TTL_S. */
export function accessTokensFor(
  config: Pick<Config, 'tokenSigningKey' | 'tokenSigningKeyPrevious' | 'accessTokenTtlS' | 'gatewayEnv' | 'dataDir'>,
  clients: ApiClients,
): AccessTokens {
  const signingKey = serviceKey({ name: 'TOKEN_SIGNING_KEY', configured: config.tokenSigningKey, production: config.gatewayEnv === 'production', dataDir: config.dataDir });
  return new AccessTokens({ signingKey, previousSigningKey: config.tokenSigningKeyPrevious, ttlSeconds: config.accessTokenTtlS, clients });
}

import fs from 'node:fs';
import path from 'node:path';
import { SignJWT, UnsecuredJWT } from 'jose';
import { loadConfig } from '../../src/config/settings';
import { ConfigError, InvalidAccessToken } from '../../src/errors';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, accessTokenKey, AccessTokens, accessTokensFor } from '../../src/security/access-tokens';
import type { ApiClient, ApiClients, Scope } from '../../src/sessions/api-clients';
import { PREVIOUS_SIGNING_KEY, temporaryFolder, TOKEN_SIGNING_KEY } from '../helpers/api-clients';

const HOUR = 3600;

function client(clientId: string, scopes: Scope[], registration = `${clientId}-registration-1`): ApiClient {
  return { clientId, scopes, progressEvents: false, createdAt: '2026-11-02T10:00:00.000Z', registration };
}

/** Clients the tests change as the file would. */
class FakeClients implements ApiClients {
  readonly clients = new Map<string, ApiClient>();
  constructor(...initial: ApiClient[]) {
    for (const each of initial) this.clients.set(each.clientId, each);
  }
  get(clientId: string) {
    return this.clients.get(clientId);
  }
  list() {
    return [...this.clients.values()];
  }
}

const crm = client('crm', ['sessions:write']);
const reader = client('reader', ['sessions:read']);

function tokensWith(options: Partial<ConstructorParameters<typeof AccessTokens>[0]> = {}, clients = new FakeClients(crm, reader)) {
  return new AccessTokens({ signingKey: TOKEN_SIGNING_KEY, ttlSeconds: HOUR, clients, ...options });
}

async function refusal(verifying: Promise<unknown>): Promise<InvalidAccessToken> {
  const error = await verifying.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InvalidAccessToken);
  return error as InvalidAccessToken;
}

function decodedPart(token: string, index: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('issuing and verifying access tokens', () => {
  test('when a token is issued, then it is an HS256 JWT naming the client, its scope, issuer, audience, lifetime and an id', async () => {
    const issuedAt = Date.now();
    const { accessToken, expiresIn, scopes } = await tokensWith({ now: () => issuedAt }).issue(crm, ['sessions:write']);
    expect({ expiresIn, scopes }).toEqual({ expiresIn: HOUR, scopes: ['sessions:write'] });
    expect(decodedPart(accessToken, 0)).toEqual({ alg: 'HS256', typ: 'at+jwt' });
    const seconds = Math.floor(issuedAt / 1000);
    expect(decodedPart(accessToken, 1)).toEqual({
      sub: 'crm',
      scope: 'sessions:write',
      iss: ACCESS_TOKEN_ISSUER,
      aud: ACCESS_TOKEN_AUDIENCE,
      iat: seconds,
      exp: seconds + HOUR,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      reg: 'crm-registration-1',
    });
  });

  test('when a token is verified, then its client, its scopes with what they imply, its id and expiry come back', async () => {
    const tokens = tokensWith();
    const { accessToken } = await tokens.issue(crm, ['sessions:write']);
    const verified = await tokens.verify(accessToken);
    expect(verified).toEqual({ clientId: 'crm', scopes: ['sessions:write', 'sessions:read'], tokenId: decodedPart(accessToken, 1).jti, expiresAt: expect.any(Date) });
    expect(verified.expiresAt.getTime()).toBe((decodedPart(accessToken, 1).exp as number) * 1000);
    await expect(tokens.verify((await tokens.issue(reader, ['sessions:read'])).accessToken)).resolves.toMatchObject({ clientId: 'reader', scopes: ['sessions:read'] });
  });

  test('when two tokens are issued, then their ids differ', async () => {
    const tokens = tokensWith();
    const [first, second] = await Promise.all([tokens.issue(crm, ['sessions:write']), tokens.issue(crm, ['sessions:write'])]);
    expect(decodedPart(first.accessToken, 1).jti).not.toBe(decodedPart(second.accessToken, 1).jti);
  });

  test('when a token has outlived ACCESS_TOKEN_TTL_S, then it is refused as expired (and as one this service signed)', async () => {
    const issuedAt = Date.now();
    let now = issuedAt;
    const tokens = tokensWith({ ttlSeconds: 60, now: () => now });
    const { accessToken } = await tokens.issue(crm, ['sessions:write']);
    now = issuedAt + 50_000;
    await expect(tokens.verify(accessToken)).resolves.toMatchObject({ clientId: 'crm' });
    now = issuedAt + 70_000;
    const error = await refusal(tokens.verify(accessToken));
    expect(error.message).toBe('The access token has expired');
    expect(error.signedByUs).toBe(true);
  });

  test('when a token was signed with another key, then it is refused as not valid and not ours', async () => {
    const forged = await new AccessTokens({ signingKey: 'some-other-key-of-at-least-32-characters', ttlSeconds: HOUR, clients: new FakeClients(crm) }).issue(crm, ['sessions:write']);
    const error = await refusal(tokensWith().verify(forged.accessToken));
    expect({ message: error.message, signedByUs: error.signedByUs }).toEqual({ message: 'The access token is not valid', signedByUs: false });
  });

  test('when a valid token is altered (a scope added), then its signature no longer holds', async () => {
    const tokens = tokensWith();
    const { accessToken } = await tokens.issue(reader, ['sessions:read']);
    const [header, payload, signature] = accessToken.split('.');
    const widened = Buffer.from(JSON.stringify({ ...decodedPart(accessToken, 1), scope: 'sessions:write' })).toString('base64url');
    expect(payload).not.toBe(widened);
    await refusal(tokens.verify(`${header}.${widened}.${signature}`));
  });

  test('when the signing key is rotated, then tokens of the previous key verify while it is TOKEN_SIGNING_KEY_PREVIOUS, and not after', async () => {
    const clients = new FakeClients(crm);
    const old = await tokensWith({ signingKey: PREVIOUS_SIGNING_KEY }, clients).issue(crm, ['sessions:write']);
    const rotated = tokensWith({ signingKey: TOKEN_SIGNING_KEY, previousSigningKey: PREVIOUS_SIGNING_KEY }, clients);
    await expect(rotated.verify(old.accessToken)).resolves.toMatchObject({ clientId: 'crm' });
    await expect(rotated.verify((await rotated.issue(crm, ['sessions:write'])).accessToken)).resolves.toMatchObject({ clientId: 'crm' });
    await refusal(tokensWith({ signingKey: TOKEN_SIGNING_KEY }, clients).verify(old.accessToken));
  });

  test('when an expired token was signed with the previous key, then it is refused as expired', async () => {
    const past = Date.now() - 2 * HOUR * 1000;
    const old = await tokensWith({ signingKey: PREVIOUS_SIGNING_KEY, now: () => past }).issue(crm, ['sessions:write']);
    const error = await refusal(tokensWith({ previousSigningKey: PREVIOUS_SIGNING_KEY }).verify(old.accessToken));
    expect(error.message).toBe('The access token has expired');
  });

  test('when the client has been removed from the file, then its tokens are refused', async () => {
    const clients = new FakeClients(crm);
    const tokens = tokensWith({}, clients);
    const { accessToken } = await tokens.issue(crm, ['sessions:write']);
    clients.clients.delete('crm');
    const error = await refusal(tokens.verify(accessToken));
    expect(error.message).toBe("The access token's client is no longer registered");
  });

  test('when the client was removed and added again (a new secret), then its old tokens are refused', async () => {
    const clients = new FakeClients(crm);
    const tokens = tokensWith({}, clients);
    const { accessToken } = await tokens.issue(crm, ['sessions:write']);
    clients.clients.set('crm', client('crm', ['sessions:write'], 'crm-registration-2'));
    await refusal(tokens.verify(accessToken));
  });

  test("when the client's scopes are narrowed in the file, then its tokens lose the scopes it no longer holds", async () => {
    const clients = new FakeClients(crm);
    const tokens = tokensWith({}, clients);
    const { accessToken } = await tokens.issue(crm, ['sessions:write']);
    clients.clients.set('crm', { ...crm, scopes: ['sessions:read'] });
    await expect(tokens.verify(accessToken)).resolves.toMatchObject({ scopes: ['sessions:read'] });
  });

  const key = accessTokenKey(TOKEN_SIGNING_KEY);
  const craft = (claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'at+jwt' }, signingKey: Uint8Array = key) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: 'crm', scope: 'sessions:write', reg: crm.registration, iss: ACCESS_TOKEN_ISSUER, aud: ACCESS_TOKEN_AUDIENCE, iat: now, exp: now + 600, jti: 'id-1', ...claims })
      .setProtectedHeader(header as { alg: string })
      .sign(signingKey);
  };

  test('when a crafted token is right in every way, then it verifies (the cases below differ in one thing each)', async () => {
    await expect(tokensWith().verify(await craft({}))).resolves.toMatchObject({ clientId: 'crm' });
  });

  test.each<[string, () => Promise<string>]>([
    ['another audience', () => craft({ aud: 'paybridge:console' })],
    ['another issuer', () => craft({ iss: 'someone-else' })],
    ['another type (typ)', () => craft({}, { alg: 'HS256', typ: 'JWT' })],
    ['no expiry', () => craft({ exp: undefined })],
    ['no token id', () => craft({ jti: undefined })],
    ['no registration', () => craft({ reg: undefined })],
    ['a scope this service does not have', () => craft({ scope: 'sessions:write admin' })],
    ['a client id that is not a string', () => craft({ sub: 42 })],
    ['a signature made with TOKEN_SIGNING_KEY itself, as another purpose might use it', () => craft({}, undefined, new TextEncoder().encode(TOKEN_SIGNING_KEY))],
    ['HS512', () => craft({}, { alg: 'HS512', typ: 'at+jwt' }, new Uint8Array([...key, ...key]))],
    ['no signature at all (alg none)', async () => new UnsecuredJWT({ sub: 'crm', scope: 'sessions:write', reg: crm.registration, jti: 'x' }).setIssuer(ACCESS_TOKEN_ISSUER).setAudience(ACCESS_TOKEN_AUDIENCE).setIssuedAt().setExpirationTime('10m').encode()],
    ['garbage', async () => 'not-a-token'],
    ['three empty parts', async () => '..'],
    ['a JWT with a payload that is not JSON', async () => `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('nope').toString('base64url')}.abc`],
  ])('when a token has %s, then it is refused as not valid', async (_case, build) => {
    const error = await refusal(tokensWith().verify(await build()));
    expect({ message: error.message, signedByUs: error.signedByUs }).toEqual({ message: 'The access token is not valid', signedByUs: false });
  });
});

describe('the signing key (TOKEN_SIGNING_KEY)', () => {
  test('when it is not set outside production, then one is generated into DATA_DIR (mode 0600) and reused', async () => {
    const dataDir = temporaryFolder('data-');
    const first = accessTokensFor(loadConfig({ DATA_DIR: dataDir }), new FakeClients(crm));
    const second = accessTokensFor(loadConfig({ DATA_DIR: dataDir }), new FakeClients(crm));
    const keyFile = path.join(dataDir, 'token-signing-key.key');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    await expect(second.verify((await first.issue(crm, ['sessions:write'])).accessToken)).resolves.toMatchObject({ clientId: 'crm' });
  });

  test('when it is set, then tokens verify on any instance with the same key (replicas), with ACCESS_TOKEN_TTL_S', async () => {
    const env = { DATA_DIR: temporaryFolder('data-'), TOKEN_SIGNING_KEY, ACCESS_TOKEN_TTL_S: '120' };
    const replicaA = accessTokensFor(loadConfig(env), new FakeClients(crm));
    const replicaB = accessTokensFor(loadConfig({ ...env, DATA_DIR: temporaryFolder('data-') }), new FakeClients(crm));
    const issued = await replicaA.issue(crm, ['sessions:write']);
    expect(issued.expiresIn).toBe(120);
    await expect(replicaB.verify(issued.accessToken)).resolves.toMatchObject({ clientId: 'crm' });
    expect(fs.readdirSync(env.DATA_DIR)).toEqual([]);
  });

  test('when it is not set in production, then start-up stops naming it', () => {
    expect(() => accessTokensFor(loadConfig({ DATA_DIR: temporaryFolder('data-'), GATEWAY_ENV: 'production' }), new FakeClients())).toThrow(ConfigError);
    expect(() => accessTokensFor(loadConfig({ DATA_DIR: temporaryFolder('data-'), GATEWAY_ENV: 'production' }), new FakeClients())).toThrow(/TOKEN_SIGNING_KEY/);
  });
});

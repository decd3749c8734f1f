import request from 'supertest';
import { InsufficientScope, InvalidAccessToken, NotFound, TooManyAuthFailures, Unauthorized } from '../../src/errors';
import { sessionApiErrorAnswer } from '../../src/http/session-api-error';
import { AccessTokens } from '../../src/security/access-tokens';
import { CRM_SECRET, expectNoSecretsIn, PREVIOUS_SIGNING_KEY, READER_SECRET, secretForms, standardClients, TOKEN_SIGNING_KEY, writeClients } from '../helpers/api-clients';
import { startSessionAuthServer, type SessionAuthServer } from '../helpers/session-auth-server';

const clients = standardClients();
const issuedTokens: string[] = [];

let server: SessionAuthServer;
beforeEach(async () => {
  server = await startSessionAuthServer({ clients, tokens: { previousSigningKey: PREVIOUS_SIGNING_KEY } });
});
afterEach(async () => {
  await server.stop();
  expectNoSecretsIn(server.logs.text, secretForms(clients, issuedTokens));
});

async function tokenFor(clientId: string, secret: string, scope?: string): Promise<string> {
  const response = await request(server.url)
    .post('/oauth/token')
    .type('form')
    .send({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, ...(scope ? { scope } : {}) });
  expect(response.status).toBe(200);
  issuedTokens.push(response.body.access_token);
  return response.body.access_token as string;
}

/** A token as another instance would sign it (another key, or issued long ago). */
async function tokenSignedBy(options: Partial<ConstructorParameters<typeof AccessTokens>[0]>): Promise<string> {
  const tokens = new AccessTokens({ signingKey: TOKEN_SIGNING_KEY, ttlSeconds: 3600, clients: server.registry, ...options });
  const { accessToken } = await tokens.issue(server.registry.get('crm')!, ['sessions:write']);
  issuedTokens.push(accessToken);
  return accessToken;
}

const listSessions = (authorization?: string) => {
  const call = request(server.url).get('/v1/sessions');
  return authorization === undefined ? call : call.set('Authorization', authorization);
};

describe('requireScope: the session API\'s Bearer authentication', () => {
  test('when the token is valid and has the scope, then the route runs and knows the client (apiClientOf)', async () => {
    const token = await tokenFor('reader', READER_SECRET);
    const response = await listSessions(`Bearer ${token}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ client: { clientId: 'reader', scopes: ['sessions:read'] } });
    expect(server.authenticated).toEqual(['POST /oauth/token', 'GET /v1/sessions']);
  });

  test('when there is no token, then 401 UNAUTHORIZED with a Bearer challenge naming no error (RFC 6750 3.1)', async () => {
    const response = await listSessions();
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: { code: 'UNAUTHORIZED', message: 'A Bearer access token is required (POST /oauth/token)' } });
    expect(response.headers['www-authenticate']).toBe('Bearer realm="sessions"');
    expect(server.authenticated).toEqual([]);
  });

  test('when the client sends its Basic credentials instead of a token, then 401', async () => {
    const response = await listSessions(`Basic ${Buffer.from(`crm:${CRM_SECRET}`).toString('base64')}`);
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="sessions"');
  });

  test.each<[string, () => Promise<string>, string]>([
    ['garbage', async () => 'not-a-token', 'The access token is not valid'],
    ['signed with another key', () => tokenSignedBy({ signingKey: 'a-key-this-service-does-not-have-0123456789' }), 'The access token is not valid'],
    ['expired', () => tokenSignedBy({ now: () => Date.now() - 2 * 3600 * 1000 }), 'The access token has expired'],
  ])('when the token is %s, then 401 with error="invalid_token"', async (_case, token, message) => {
    const response = await listSessions(`Bearer ${await token()}`);
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: { code: 'UNAUTHORIZED', message } });
    expect(response.headers['www-authenticate']).toBe('Bearer realm="sessions", error="invalid_token"');
    expect(server.authenticated).toEqual([]);
  });

  test('when the token was signed with the previous key (TOKEN_SIGNING_KEY_PREVIOUS), then it is accepted', async () => {
    const response = await listSessions(`Bearer ${await tokenSignedBy({ signingKey: PREVIOUS_SIGNING_KEY })}`);
    expect(response.status).toBe(200);
  });

  test('when a sessions:read token calls a sessions:write route, then 403 INSUFFICIENT_SCOPE naming the scope', async () => {
    const token = await tokenFor('reader', READER_SECRET);
    const response = await request(server.url).post('/v1/sessions').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(403);
    expect(response.body).toEqual({ error: { code: 'INSUFFICIENT_SCOPE', message: 'This needs an access token with the sessions:write scope' } });
    expect(response.headers['www-authenticate']).toBe('Bearer realm="sessions", error="insufficient_scope", scope="sessions:write"');
    // The token itself was good: the client has authenticated.
    expect(server.authenticated).toEqual(['POST /oauth/token', 'POST /v1/sessions']);
  });

  test('when a sessions:write token calls a sessions:read route, then it may (write implies read)', async () => {
    const token = await tokenFor('crm', CRM_SECRET);
    const response = await listSessions(`Bearer ${token}`);
    expect(response.body).toEqual({ client: { clientId: 'crm', scopes: ['sessions:write', 'sessions:read'] } });
  });

  test('when the client is removed from the file, then its token is refused from the next reload on', async () => {
    const token = await tokenFor('crm', CRM_SECRET);
    expect((await listSessions(`Bearer ${token}`)).status).toBe(200);
    writeClients(server.file, [clients[1]!]);
    await server.registry.reload();
    const response = await listSessions(`Bearer ${token}`);
    expect(response.status).toBe(401);
    expect(response.body.error.message).toBe("The access token's client is no longer registered");
    expect(response.headers['www-authenticate']).toBe('Bearer realm="sessions", error="invalid_token"');
  });
});

describe('failed Bearer tokens are throttled (account bearer:sessions)', () => {
  test('when 10 bad tokens came from one address, then the 11th request is 429, even with a good token', async () => {
    const token = await tokenFor('crm', CRM_SECRET);
    for (let attempt = 1; attempt <= 10; attempt += 1) expect((await listSessions(`Bearer forged-${attempt}`)).status).toBe(401);
    const response = await listSessions(`Bearer ${token}`);
    expect(response.status).toBe(429);
    expect(response.body).toEqual({ error: { code: 'TOO_MANY_AUTH_FAILURES', message: 'Too many failed authentications from this address; try again later' } });
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  });

  test('when requests come without a token, then they count as failures too', async () => {
    for (let attempt = 1; attempt <= 10; attempt += 1) expect((await listSessions()).status).toBe(401);
    expect((await listSessions()).status).toBe(429);
  });

  test('when 30 bad tokens arrive at once, then at most 10 are looked at and the rest are 429', async () => {
    const answers = await Promise.all(Array.from({ length: 30 }, (_, index) => listSessions(`Bearer forged-${index}`)));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(20);
  });

  test('when tokens this service signed have expired, then they are refused but not counted: clients renew them every hour', async () => {
    const expired = await tokenSignedBy({ now: () => Date.now() - 2 * 3600 * 1000 });
    for (let attempt = 1; attempt <= 15; attempt += 1) expect((await listSessions(`Bearer ${expired}`)).status).toBe(401);
    expect((await listSessions(`Bearer ${await tokenFor('crm', CRM_SECRET)}`)).status).toBe(200);
  });
});

describe('sessionApiErrorAnswer', () => {
  test.each([
    [new Unauthorized('no token'), 401, { 'WWW-Authenticate': 'Bearer realm="sessions"' }],
    [new InvalidAccessToken('bad token'), 401, { 'WWW-Authenticate': 'Bearer realm="sessions", error="invalid_token"' }],
    [new InsufficientScope('needs write', 'sessions:write'), 403, { 'WWW-Authenticate': 'Bearer realm="sessions", error="insufficient_scope", scope="sessions:write"' }],
    [new TooManyAuthFailures('slow down', 42), 429, { 'Retry-After': '42' }],
    [new NotFound('No such session'), 404, {}],
  ])('when the error is %p, then the answer has status %i, its code and message, and these headers', (error, status, headers) => {
    expect(sessionApiErrorAnswer(error)).toEqual({ status, headers, body: { error: { code: error.code, message: error.message } } });
  });
});

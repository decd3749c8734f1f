import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import request from 'supertest';
import { oauthOpenApi } from '../../src/http/oauth-routes';
import { SecretChecks, type SecretHash } from '../../src/security/secret-hash';
import { CRM_SECRET, eventually, expectNoSecretsIn, READER_SECRET, secretForms, standardClients } from '../helpers/api-clients';
import { startSessionAuthServer, type SessionAuthServer } from '../helpers/session-auth-server';

const clients = standardClients();
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
/** Every access token a test saw: they must not show in any log line either. */
const issuedTokens: string[] = [];

let server: SessionAuthServer;
beforeEach(async () => {
  server = await startSessionAuthServer({ clients });
});
afterEach(async () => {
  await server.stop();
  expectNoSecretsIn(server.logs.text, secretForms(clients, issuedTokens));
});

function tokenRequest(form: Record<string, string>, authorization?: string) {
  const call = request(server.url).post('/oauth/token').type('form').send(form);
  return authorization === undefined ? call : call.set('Authorization', authorization);
}

describe('POST /oauth/token with client credentials (RFC 6749 4.4)', () => {
  test('when the credentials are in the form body, then a Bearer token for all of the client\'s scopes, not to be cached', async () => {
    const response = await tokenRequest({ grant_type: 'client_credentials', client_id: 'crm', client_secret: CRM_SECRET });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, scope: 'sessions:write' });
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['pragma']).toBe('no-cache');
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    issuedTokens.push(response.body.access_token);
    expect(server.authenticated).toEqual(['POST /oauth/token']);
    expect(server.logs.entries()).toContainEqual(expect.objectContaining({ message: 'access token issued', client_id: 'crm', scope: 'sessions:write', expires_in: 3600 }));
  });

  test('when the token is used, then the session API knows the client; sessions:write also reads', async () => {
    const { body } = await tokenRequest({ grant_type: 'client_credentials', client_id: 'crm', client_secret: CRM_SECRET });
    issuedTokens.push(body.access_token);
    const created = await request(server.url).post('/v1/sessions').set('Authorization', `Bearer ${body.access_token}`);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ client: { clientId: 'crm', scopes: ['sessions:write', 'sessions:read'] } });
    const listed = await request(server.url).get('/v1/sessions').set('Authorization', `Bearer ${body.access_token}`);
    expect(listed.status).toBe(200);
  });

  test('when the credentials come with HTTP Basic, then a token too', async () => {
    const response = await tokenRequest({ grant_type: 'client_credentials' }, basic('reader', READER_SECRET));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ token_type: 'Bearer', scope: 'sessions:read' });
    issuedTokens.push(response.body.access_token);
    expect(response.headers['www-authenticate']).toBeUndefined();
  });

  test('when Basic is used and the body repeats the same client_id, then that is accepted', async () => {
    const response = await tokenRequest({ grant_type: 'client_credentials', client_id: 'reader' }, basic('reader', READER_SECRET));
    expect(response.status).toBe(200);
    issuedTokens.push(response.body.access_token);
  });

  test.each([
    ['crm', 'sessions:read', 'sessions:read', CRM_SECRET],
    ['crm', 'sessions:write sessions:read', 'sessions:write sessions:read', CRM_SECRET],
    ['crm', 'sessions:read sessions:write', 'sessions:write sessions:read', CRM_SECRET],
    ['reader', 'sessions:read', 'sessions:read', READER_SECRET],
  ])('when %s asks for scope "%s", a subset of its own, then the token has "%s"', async (clientId, scope, granted, secret) => {
    const response = await tokenRequest({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope });
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe(granted);
    issuedTokens.push(response.body.access_token);
  });

  test('when a sessions:write client asks for sessions:read only, then its token cannot write', async () => {
    const { body } = await tokenRequest({ grant_type: 'client_credentials', client_id: 'crm', client_secret: CRM_SECRET, scope: 'sessions:read' });
    issuedTokens.push(body.access_token);
    const response = await request(server.url).post('/v1/sessions').set('Authorization', `Bearer ${body.access_token}`);
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('INSUFFICIENT_SCOPE');
  });
});

describe('POST /oauth/token errors (RFC 6749 5.2)', () => {
  const ok = { grant_type: 'client_credentials', client_id: 'crm', client_secret: CRM_SECRET };
  // invalid_grant does not arise with client credentials: the client's credentials are its grant,
  // and their failure is invalid_client (RFC 6749 4.4.2, 5.2).
  const cases: Array<[string, number, string, () => request.Test]> = [
    ['no client credentials', 401, 'invalid_client', () => tokenRequest({ grant_type: 'client_credentials' })],
    ['a client_id without its secret', 401, 'invalid_client', () => tokenRequest({ grant_type: 'client_credentials', client_id: 'crm' })],
    ['a wrong secret in the body', 401, 'invalid_client', () => tokenRequest({ ...ok, client_secret: READER_SECRET })],
    ['a wrong secret with Basic', 401, 'invalid_client', () => tokenRequest({ grant_type: 'client_credentials' }, basic('crm', READER_SECRET))],
    ['an unknown client', 401, 'invalid_client', () => tokenRequest({ ...ok, client_id: 'nobody' })],
    ['an Authorization header that is not Basic', 401, 'invalid_client', () => tokenRequest(ok, 'Bearer abc')],
    ['Basic credentials and a client_secret in the body', 400, 'invalid_request', () => tokenRequest(ok, basic('crm', CRM_SECRET))],
    ['Basic credentials and another client_id in the body', 400, 'invalid_request', () => tokenRequest({ grant_type: 'client_credentials', client_id: 'reader' }, basic('crm', CRM_SECRET))],
    ['no grant_type', 400, 'invalid_request', () => tokenRequest({ client_id: 'crm', client_secret: CRM_SECRET })],
    ['grant_type given twice', 400, 'invalid_request', () => request(server.url).post('/oauth/token').type('form').send(`grant_type=client_credentials&grant_type=client_credentials&client_id=crm&client_secret=${CRM_SECRET}`)],
    ['a JSON body', 400, 'invalid_request', () => request(server.url).post('/oauth/token').send(ok)],
    ['no body', 400, 'invalid_request', () => request(server.url).post('/oauth/token')],
    ['the client_secret in the URL', 400, 'invalid_request', () => request(server.url).post(`/oauth/token?client_secret=${CRM_SECRET}`).type('form').send({ grant_type: 'client_credentials', client_id: 'crm' })],
    ['a body over 4 KB', 413, 'invalid_request', () => tokenRequest({ ...ok, scope: 'x'.repeat(5000) })],
    ['GET', 405, 'invalid_request', () => request(server.url).get('/oauth/token')],
    ['grant_type=password', 400, 'unsupported_grant_type', () => tokenRequest({ ...ok, grant_type: 'password' })],
    ['grant_type=authorization_code', 400, 'unsupported_grant_type', () => tokenRequest({ ...ok, grant_type: 'authorization_code' })],
    ['a scope beyond the client\'s', 400, 'invalid_scope', () => tokenRequest({ grant_type: 'client_credentials', client_id: 'reader', client_secret: READER_SECRET, scope: 'sessions:write' })],
    ['a scope beyond the client\'s beside one of its own', 400, 'invalid_scope', () => tokenRequest({ grant_type: 'client_credentials', client_id: 'reader', client_secret: READER_SECRET, scope: 'sessions:read sessions:write' })],
    ['a scope that does not exist', 400, 'invalid_scope', () => tokenRequest({ ...ok, scope: 'sessions:admin' })],
    ['an empty scope', 400, 'invalid_scope', () => tokenRequest({ ...ok, scope: '' })],
  ];

  const refusedAfterAuthentication = new Set(["a scope beyond the client's", "a scope beyond the client's beside one of its own"]);

  test.each(cases)('when the request has %s, then %i %s, not cached', async (name, status, error, send) => {
    const response = await send();
    expect({ status: response.status, body: response.body }).toEqual({ status, body: { error, error_description: expect.any(String) } });
    expect(response.headers['cache-control']).toBe('no-store');
    // Only a client that proved its secret (and then asked for too much) has authenticated.
    expect(server.authenticated).toEqual(refusedAfterAuthentication.has(name) ? ['POST /oauth/token'] : []);
    expectNoSecretsIn(JSON.stringify(response.body), secretForms(clients));
    // HTTP asks a challenge of every 401; RFC 6749 5.2 requires Basic's when Basic was tried.
    if (status === 401) expect(response.headers['www-authenticate']).toBe('Basic realm="oauth", charset="UTF-8"');
    else expect(response.headers['www-authenticate']).toBeUndefined();
    if (status === 405) expect(response.headers.allow).toBe('POST');
    const line = server.logs.entries().find((entry) => entry.message === 'request' && entry.route === '/oauth/token');
    expect(line).toMatchObject({ status, error_code: error });
  });

  test('when an unknown scope is asked for, then the description does not echo it', async () => {
    const response = await tokenRequest({ ...ok, scope: 'sessions:write <script>' });
    expect(response.body.error_description).not.toContain('<script>');
  });
});

describe('failed token requests are throttled', () => {
  const wrong = { grant_type: 'client_credentials', client_id: 'crm', client_secret: 'wrong-secret-for-the-throttle-tests' };

  test('when one client id has failed 10 times from one address, then the 11th request is 429, even with the right secret, while other clients still get tokens', async () => {
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      expect((await tokenRequest(wrong)).status).toBe(401);
    }
    const throttled = await tokenRequest({ ...wrong, client_secret: CRM_SECRET });
    expect(throttled.status).toBe(429);
    expect(throttled.body).toEqual({ error: 'temporarily_unavailable', error_description: 'Too many failed authentications from this address; try again later' });
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    const basicThrottled = await tokenRequest({ grant_type: 'client_credentials' }, basic('crm', CRM_SECRET));
    expect(basicThrottled.status).toBe(429);
    const other = await tokenRequest({ grant_type: 'client_credentials', client_id: 'reader', client_secret: READER_SECRET });
    expect(other.status).toBe(200);
    issuedTokens.push(other.body.access_token);
  });

  test('when 30 wrong secrets for one client arrive at once, then at most 10 are checked and the rest are 429', async () => {
    const answers = await Promise.all(Array.from({ length: 30 }, (_, index) => tokenRequest({ ...wrong, client_secret: `wrong-${index}` })));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(20);
    expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
  });

  test('when 100 requests without usable credentials came from one address, then the address is throttled', async () => {
    for (let attempt = 1; attempt <= 100; attempt += 1) {
      const response = attempt % 2 === 0 ? await tokenRequest({ grant_type: 'client_credentials' }) : await tokenRequest({ grant_type: 'client_credentials' }, 'Bearer abc');
      expect(response.status).toBe(401);
    }
    const response = await tokenRequest({ grant_type: 'client_credentials', client_id: 'reader', client_secret: READER_SECRET });
    expect({ status: response.status, error: response.body.error }).toEqual({ status: 429, error: 'temporarily_unavailable' });
  });

  test('when the right secret is used many times, then it is never throttled', async () => {
    for (let attempt = 1; attempt <= 12; attempt += 1) {
      const response = await tokenRequest({ grant_type: 'client_credentials', client_id: 'crm', client_secret: CRM_SECRET });
      expect(response.status).toBe(200);
      issuedTokens.push(response.body.access_token);
    }
  });
});

describe('secret checks are bounded', () => {
  /** Holds every check that has started until released: the tests decide when checks end. */
  class HeldChecks extends SecretChecks {
    private open!: () => void;
    private readonly held = new Promise<void>((resolve) => (this.open = resolve));
    protected override async compare(secret: string, stored: SecretHash): Promise<boolean> {
      await this.held;
      return super.compare(secret, stored);
    }
    releaseAll(): void {
      this.open();
    }
  }

  test('when more token requests come at once than checks run and wait, then the excess is refused at once with 503, the others answered', async () => {
    const checks = new HeldChecks(1, 2);
    await server.stop();
    server = await startSessionAuthServer({ clients, secretChecks: checks });
    const attempt = (index: number) => tokenRequest({ grant_type: 'client_credentials', client_id: `guess-${index}`, client_secret: `guess-${index}` });
    const first = [0, 1, 2].map((index) => attempt(index).then((answer) => answer));
    await eventually(() => checks.load.running === 1 && checks.load.waiting === 2, 'three checks under way');

    // With every slot and place in the queue taken, more requests are answered without waiting for any check.
    const excess = await Promise.all([3, 4, 5, 6, 7, 8, 9, 10].map(attempt));
    for (const answer of excess) {
      expect({ status: answer.status, body: answer.body, retryAfter: answer.headers['retry-after'] }).toEqual({
        status: 503,
        body: { error: 'temporarily_unavailable', error_description: 'Too many client authentications at once; try again shortly' },
        retryAfter: '1',
      });
    }
    expect(checks.load).toEqual({ running: 1, waiting: 2 });
    checks.releaseAll();
    expect((await Promise.all(first)).map((answer) => answer.status)).toEqual([401, 401, 401]);
  });
});

describe('the OpenAPI fragment', () => {
  test('when /oauth/token and the session API scheme are put in an OpenAPI 3.1 document, then it is valid', async () => {
    const document = { openapi: '3.1.0', info: { title: 'fragment', version: '1' }, paths: oauthOpenApi.paths, components: { securitySchemes: oauthOpenApi.securitySchemes } };
    // The validator is an ES module: it runs in a Node process of its own (as test/http/operations.test.ts does).
    const script = `import { Validator } from '@seriousme/openapi-schema-validator';
      const validator = new Validator();
      console.log(JSON.stringify(await validator.validate(JSON.parse(process.argv[1]))));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(document)]);
    expect(JSON.parse(stdout)).toEqual({ valid: true });
  });
});

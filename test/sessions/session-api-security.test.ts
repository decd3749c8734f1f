import { randomBytes } from 'node:crypto';
import request from 'supertest';
import twilio from 'twilio';
import { createLogger } from '../../src/logging/logger';
import { AccessTokens } from '../../src/security/access-tokens';
import { ApiClientRegistry } from '../../src/sessions/api-client-registry';
import { TOKEN_SIGNING_KEY } from '../helpers/api-clients';
import { documentedOperations, servedOperations, validateOpenApi, type OpenApiDocument } from '../helpers/openapi';
import { AUTH_TOKEN, startSessionStack, type SessionStack } from '../helpers/session-stack';

/** What the session API refuses, and that a refused request changes nothing. */
let stack: SessionStack;
let crm: string;
beforeAll(async () => {
  stack = await startSessionStack();
  crm = await stack.token('crm');
});
afterAll(async () => {
  await stack?.stop();
});

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
async function newSession() {
  const created = await request(stack.service.url).post('/v1/sessions').set(bearer(crm)).send({ type: 'agent', call_sid: `CA${randomBytes(16).toString('hex')}`, amount: '3.00' });
  expect(created.status).toBe(201);
  return created.body as { id: string; updated_at: string };
}
const current = async (id: string) => (await request(stack.service.url).get(`/v1/sessions/${id}`).set(bearer(crm))).body;

describe("Twilio's callbacks", () => {
  const callback = (id: string) => `${stack.service.url}/twilio/sessions/${id}/status`;
  const progress = { AccountSid: 'AC00000000000000000000000000000077', Capture: 'payment-card-number', PartialResult: 'true', PaymentCardNumber: 'xxxx' };
  const signed = (url: string, params: Record<string, string>, token = AUTH_TOKEN) => twilio.getExpectedTwilioSignature(token, url, params);

  test.each([
    ['no signature', () => ({}), 400, 'MISSING_SIGNATURE'],
    ['a signature made with another auth token', (url: string) => ({ 'X-Twilio-Signature': signed(url, progress, 'someone-elses-auth-token') }), 403, 'INVALID_SIGNATURE'],
    ['a genuine signature replayed over changed parameters', (url: string) => ({ 'X-Twilio-Signature': signed(url, { ...progress, PaymentCardNumber: 'xx' }) }), 403, 'INVALID_SIGNATURE'],
    ["a genuine signature of another session's URL", (url: string) => ({ 'X-Twilio-Signature': signed(url.replace(/ps_[0-9a-f]+/, `ps_${'0'.repeat(32)}`), progress) }), 403, 'INVALID_SIGNATURE'],
  ])('when a callback comes with %s, then it is refused and the session does not change', async (_label, headers, status, code) => {
    const { id } = await newSession();
    const before = await current(id);
    const url = callback(id);
    const answer = await request(stack.service.url).post(`/twilio/sessions/${id}/status`).set(headers(url)).type('form').send(progress);
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(await current(id)).toEqual(before);
  });

  test('when a callback is signed as Twilio signs it, then it is taken (the control for the refusals above)', async () => {
    const { id } = await newSession();
    await request(stack.service.url).post(`/v1/sessions/${id}/capture`).set(bearer(crm)).send({ field: 'card_number' }).expect(200);
    const url = callback(id);
    await request(stack.service.url).post(`/twilio/sessions/${id}/status`).set('X-Twilio-Signature', signed(url, progress)).type('form').send(progress).expect(200);
    expect((await current(id)).fields.card_number).toMatchObject({ state: 'capturing', length: 4 });
  });
});

describe('access tokens', () => {
  test('when no token is sent, then 401 with a Bearer challenge', async () => {
    const answer = await request(stack.service.url).get('/v1/sessions');
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toMatch(/^Bearer realm="sessions"/);
    expect(answer.body.error.code).toBe('UNAUTHORIZED');
  });

  test('when a sessions:read token asks for a capture, then 403 INSUFFICIENT_SCOPE', async () => {
    const { id } = await newSession();
    const reader = await stack.token('crm', 'sessions:read');
    const answer = await request(stack.service.url).post(`/v1/sessions/${id}/capture`).set(bearer(reader)).send({ field: 'card_number' });
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('INSUFFICIENT_SCOPE');
    expect((await current(id)).fields.card_number.state).toBe('empty');
  });

  test('when a token has expired, then 401', async () => {
    const clients = new ApiClientRegistry({ file: stack.clientsFile, logger: createLogger('error'), watch: false });
    try {
      const past = new AccessTokens({ signingKey: TOKEN_SIGNING_KEY, ttlSeconds: 60, clients, now: () => Date.now() - 3_600_000 });
      const expired = (await past.issue(clients.get('crm')!, ['sessions:write'])).accessToken;
      const answer = await request(stack.service.url).get('/v1/sessions').set(bearer(expired));
      expect(answer.status).toBe(401);
    } finally {
      await clients.close();
    }
  });

  test("when a client asks for another client's session, then it does not exist for it (404)", async () => {
    const { id } = await newSession();
    const reader = await stack.token('reader');
    for (const path of [`/v1/sessions/${id}`, `/v1/sessions/${id}/history`]) {
      const answer = await request(stack.service.url).get(path).set(bearer(reader));
      expect(answer.status).toBe(404);
      expect(answer.body.error.code).toBe('SESSION_NOT_FOUND');
    }
    expect((await request(stack.service.url).get('/v1/sessions').set(bearer(reader))).body.sessions).toEqual([]);
  });
});

describe('a session not finished in time', () => {
  test('when AGENT_SESSION_TIMEOUT_S passes, then the session is cancelled at Twilio and ends expired, with the service named in its history', async () => {
    const short = await startSessionStack({ AGENT_SESSION_TIMEOUT_S: '10' });
    try {
      const token = await short.token();
      const created = await request(short.service.url).post('/v1/sessions').set(bearer(token)).send({ type: 'agent', call_sid: `CA${randomBytes(16).toString('hex')}`, amount: '3.00' });
      const id = created.body.id as string;
      const deadline = Date.now() + 30_000;
      let state = created.body.state as string;
      while (state !== 'expired' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        state = (await request(short.service.url).get(`/v1/sessions/${id}`).set(bearer(token))).body.state;
      }
      expect(state).toBe('expired');
      const history = (await request(short.service.url).get(`/v1/sessions/${id}/history`).set(bearer(token))).body.history as Array<{ actor: string; action: string }>;
      expect(history.at(-1)).toMatchObject({ actor: 'service', action: 'expired' });
      // Twilio's pay session was cancelled: the caller's keypad is no longer captured.
      const keys = await request(short.simulator.url).post(`/simulator/calls/${created.body.call_sid}/dtmf`).type('form').send({ Digits: '4' });
      expect(keys.status).toBe(409);
    } finally {
      await short.stop();
    }
  }, 60_000);
});

describe('the session API in /openapi.json', () => {
  test('when sessions are on, then the document describes every session route the service serves, and is valid OpenAPI 3.1', async () => {
    const response = await request(stack.service.url).get('/openapi.json');
    const document = response.body as OpenApiDocument;
    expect(await validateOpenApi(response.text)).toEqual({ valid: true, version: '3.1' });
    expect(servedOperations(stack.service.app)).toEqual(documentedOperations(document));
    expect(documentedOperations(document)).toEqual(
      expect.arrayContaining(['POST /oauth/token', 'POST /v1/sessions', 'POST /v1/sessions/{id}/console-link', 'POST /console/api/link-token', 'GET /console/api/sessions/{id}/events', 'GET /v1/sessions/{id}/events', 'POST /v1/sessions/{id}/capture', 'POST /twilio/sessions/{id}/status']),
    );
  });
});

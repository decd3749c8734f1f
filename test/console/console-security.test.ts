import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import request from 'supertest';
import { writeConsoleUsersFile } from '../../src/sessions/console-users-file';
import { CRM_SECRET, READER_SECRET, TOKEN_SIGNING_KEY, WEBHOOK_SECRET, eventually, expectNoSecretsIn } from '../helpers/api-clients';
import { AGENT, OTHER_AGENT, consoleUserEntry, consoleUsersFile, csrfOf, signIn, until } from '../helpers/console';
import { openEventStream, startSessionStack, type SessionStack } from '../helpers/session-stack';

/**
 * The console's attack surface over real HTTP (the service, the simulator as Twilio): sign-in
 * and its throttle, CSRF, the console_url code and the token it becomes, stream tickets, and
 * which sessions each kind of credential reaches.
 */
jest.setTimeout(60_000);

const TARGET = { name: 'target', password: 'target-console-password-9Lp3' } as const;
let stack: SessionStack;
let usersFile: string;
let crm: string;
const entries = [consoleUserEntry(AGENT.name, AGENT.password), consoleUserEntry(OTHER_AGENT.name, OTHER_AGENT.password), consoleUserEntry(TARGET.name, TARGET.password)];

beforeAll(async () => {
  usersFile = consoleUsersFile(entries);
  stack = await startSessionStack({ CONSOLE_USERS_FILE: usersFile });
  crm = await stack.token('crm');
});
afterAll(async () => {
  await stack?.stop();
});

const newCall = () => `CA${randomBytes(16).toString('hex')}`;
const url = () => stack.service.url;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** A session the crm client starts through the session API, with the console_url of its answer. */
async function apiSession(body: Record<string, unknown> = {}) {
  const created = await request(url()).post('/v1/sessions').set(bearer(crm)).send({ type: 'agent', call_sid: newCall(), amount: '4.00', ...body });
  expect(created.status).toBe(201);
  return created.body as { id: string; call_sid: string; console_url: string };
}
const codeOf = (consoleUrl: string) => new URL(consoleUrl).hash.replace(/^#code=/, '');
const openLink = (code: string) => request(url()).post('/console/api/link-token').send({ code });
async function consoleToken(consoleUrl: string): Promise<string> {
  const opened = await openLink(codeOf(consoleUrl));
  expect(opened.status).toBe(200);
  return opened.body.token as string;
}

describe('the console pages', () => {
  test('when the sign-in page is asked for, then it comes with a strict policy, no framing and nothing cached', async () => {
    const page = await request(url()).get('/console');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe("default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain('<form method="post" action="/console/sign-in"');
    expect(page.text).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+="/);
  });
});

describe('signing in', () => {
  test('when an agent signs in with the right password, then a cookie HttpOnly, SameSite=Strict, on /console only (not Secure on loopback), and the console page', async () => {
    const agent = request.agent(url());
    const form = await agent.get('/console?call_sid=CA0123456789abcdef0123456789abcdef');
    expect(form.text).toContain('name="call_sid" value="CA0123456789abcdef0123456789abcdef"');
    const answer = await agent.post('/console/sign-in').type('form').send({ _csrf: csrfOf(form.text), name: AGENT.name, password: AGENT.password, call_sid: 'CA0123456789abcdef0123456789abcdef' });
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe('/console?call_sid=CA0123456789abcdef0123456789abcdef');
    const cookie = (answer.headers['set-cookie'] as unknown as string[]).find((line) => line.startsWith('pb_console='));
    expect(cookie).toMatch(/; Path=\/console; /);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/);
    const page = await agent.get('/console');
    expect(page.text).toContain('Signed in as alice');
    expect(page.text).toContain('id="start-form"');
  });

  test.each([
    ['a wrong password', AGENT.name, 'not-the-password-at-all'],
    ['an unknown agent', 'nobody', AGENT.password],
    ['a name no agent can have', 'a:b c', AGENT.password],
    ['a password longer than anyone types', AGENT.name, 'x'.repeat(1500)],
  ])('when the sign-in has %s, then 401 with the same plain answer, and no cookie', async (_case, name, password) => {
    const agent = request.agent(url());
    const form = await agent.get('/console');
    const answer = await agent.post('/console/sign-in').type('form').send({ _csrf: csrfOf(form.text), name, password });
    expect(answer.status).toBe(401);
    expect(answer.text).toContain('The name or the password is not right.');
    expect(answer.headers['set-cookie']?.toString() ?? '').not.toContain('pb_console=');
    expect(answer.text).not.toContain(password.slice(0, 20));
  });

  test('when the sign-in form comes without its CSRF token, or with the token of another browser, then 403 and no cookie', async () => {
    const agent = request.agent(url());
    await agent.get('/console');
    const without = await agent.post('/console/sign-in').type('form').send({ name: AGENT.name, password: AGENT.password });
    expect(without.status).toBe(403);
    expect(without.headers['set-cookie']?.toString() ?? '').not.toContain('pb_console=');
    const elsewhere = await request(url()).get('/console');
    const foreign = await agent.post('/console/sign-in').type('form').send({ _csrf: csrfOf(elsewhere.text), name: AGENT.name, password: AGENT.password });
    expect(foreign.status).toBe(403);
  });

  test('when the sign-in body is larger than a form needs, then 413 PAYLOAD_TOO_LARGE', async () => {
    const answer = await request(url()).post('/console/sign-in').type('form').send({ name: AGENT.name, password: 'x'.repeat(8000) });
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  test("when someone guesses an agent's password, then after 10 failures even the right one is refused (429) for that agent, while other agents still sign in", async () => {
    const agent = request.agent(url());
    let form = await agent.get('/console');
    for (let guess = 0; guess < 10; guess++) {
      const answer = await agent.post('/console/sign-in').type('form').send({ _csrf: csrfOf(form.text), name: TARGET.name, password: `guess-${guess}` });
      expect(answer.status).toBe(401);
      form = answer;
    }
    const right = await agent.post('/console/sign-in').type('form').send({ _csrf: csrfOf(form.text), name: TARGET.name, password: TARGET.password });
    expect(right.status).toBe(429);
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
    expect(right.text).toContain('Too many failed sign-ins');
    await signIn(url(), OTHER_AGENT.name, OTHER_AGENT.password);
  });
});

describe('CSRF in a signed-in console', () => {
  const start = (signedIn: Awaited<ReturnType<typeof signIn>>, headers: Record<string, string>) =>
    signedIn.agent.post('/console/api/sessions').set(headers).send({ type: 'agent', call_sid: newCall(), connector: 'Default', amount: '2.00', currency: 'USD', payment_method: 'card' });

  test('when a change comes without the CSRF token, or with another sign-in\'s, then 403 CSRF_TOKEN_INVALID and nothing is started; with it, the session starts', async () => {
    const signedIn = await signIn(url());
    const other = await signIn(url(), OTHER_AGENT.name, OTHER_AGENT.password);
    const missing = await start(signedIn, {});
    expect(missing.status).toBe(403);
    expect(missing.body).toEqual({ error: { code: 'CSRF_TOKEN_INVALID', message: expect.any(String) } });
    const foreign = await start(signedIn, { 'X-CSRF-Token': other.csrf });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('CSRF_TOKEN_INVALID');
    const right = await start(signedIn, { 'X-CSRF-Token': signedIn.csrf });
    expect(right.status).toBe(201);
    expect(right.body.session).toMatchObject({ state: 'capturing', call_sid: expect.stringMatching(/^CA/) });
    const history = await request(url()).get(`/v1/sessions/${right.body.session.id}`).set(bearer(crm));
    expect(history.status).toBe(404); // a console session is not an API client's
    await signedIn.agent.post(`/console/api/sessions/${right.body.session.id}/cancel`).set('X-CSRF-Token', signedIn.csrf).expect(200);
  });

  test('when sign-out comes without its CSRF token, then 403 and the agent stays signed in; with it, the cookie is gone', async () => {
    const signedIn = await signIn(url());
    expect((await signedIn.agent.post('/console/sign-out').type('form').send({})).status).toBe(403);
    expect((await signedIn.agent.get('/console')).text).toContain('Signed in as alice');
    const out = await signedIn.agent.post('/console/sign-out').type('form').send({ _csrf: signedIn.csrf });
    expect(out.status).toBe(303);
    expect((await signedIn.agent.get('/console')).text).toContain('action="/console/sign-in"');
  });

  test('when the start form has invalid fields or a connector the console does not offer, then 422 naming the fields, never their values', async () => {
    const signedIn = await signIn(url());
    const bad = await signedIn.agent
      .post('/console/api/sessions')
      .set('X-CSRF-Token', signedIn.csrf)
      .send({ type: 'agent', call_sid: 'CA-not-a-call', connector: 'Default', amount: '10.001', currency: 'USD', reference: '4111111111111111' });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    for (const field of ['call_sid must', 'amount must', 'reference must']) expect(bad.body.error.message).toContain(field);
    expect(bad.text).not.toContain('4111111111111111');
    const otherConnector = await signedIn.agent.post('/console/api/sessions').set('X-CSRF-Token', signedIn.csrf).send({ type: 'agent', call_sid: newCall(), connector: 'Elsewhere', currency: 'USD' });
    expect(otherConnector.status).toBe(422);
    const huge = await signedIn.agent.post('/console/api/sessions').set('X-CSRF-Token', signedIn.csrf).set('Content-Type', 'application/json').send(JSON.stringify({ reference: 'x'.repeat(20_000) }));
    expect(huge.status).toBe(413);
    // No gateway has configured credentials here: no digital payment.
    const digital = await signedIn.agent.post('/console/api/sessions').set('X-CSRF-Token', signedIn.csrf).send({ type: 'digital', connector: 'payconex', amount: '5.00', customer: { phone: '+14155550123' } });
    expect({ status: digital.status, message: digital.body.error.message }).toEqual({ status: 422, message: expect.stringContaining('(none is configured)') });
    const other = await signedIn.agent.post('/console/api/sessions').set('X-CSRF-Token', signedIn.csrf).send({ type: 'ivr', currency: 'USD' });
    expect({ status: other.status, message: other.body.error.message }).toEqual({ status: 422, message: 'Invalid request: type must be "agent" or "digital"' });
  });

  test('when an agent is removed from the file, then the cookie of that agent is refused at once (API 401, the page asks to sign in)', async () => {
    const signedIn = await signIn(url(), OTHER_AGENT.name, OTHER_AGENT.password);
    const started = await signedIn.agent.post('/console/api/sessions').set('X-CSRF-Token', signedIn.csrf).send({ type: 'agent', call_sid: newCall(), connector: 'Default', currency: 'USD' });
    expect(started.status).toBe(201);
    const id = started.body.session.id as string;
    writeConsoleUsersFile(usersFile, { users: entries.filter((entry) => entry.name !== OTHER_AGENT.name) });
    try {
      await until(async () => (await signedIn.agent.get(`/console/api/sessions/${id}`)).status, (status) => status === 401, 'the removed agent to be refused');
      const refused = await signedIn.agent.get(`/console/api/sessions/${id}`);
      expect(refused.body.error.code).toBe('CONSOLE_SIGN_IN_REQUIRED');
      expect((await signedIn.agent.get('/console')).text).toContain('action="/console/sign-in"');
      // The session itself carries on for the other agents of the deployment.
      const alice = await signIn(url());
      expect((await alice.agent.get(`/console/api/sessions/${id}`)).status).toBe(200);
      await alice.agent.post(`/console/api/sessions/${id}/cancel`).set('X-CSRF-Token', alice.csrf).expect(200);
    } finally {
      writeConsoleUsersFile(usersFile, { users: entries });
    }
  });
});

describe('console_url', () => {
  test('when a client starts a session, then its 201 carries console_url (code in the fragment), and nothing else ever shows it: not GET, the list, the events, the webhook or the logs', async () => {
    const created = await apiSession();
    expect(created.console_url).toMatch(new RegExp(`^${url()}/console/session#code=[A-Za-z0-9_-]{43}$`));
    const code = codeOf(created.console_url);
    const stream = await openEventStream(`${url()}/v1/sessions/${created.id}/events`, crm);
    try {
      await stream.until(() => true, 'the first event');
      const again = await request(url()).get(`/v1/sessions/${created.id}`).set(bearer(crm));
      expect(again.body.console_url).toBeUndefined();
      const list = await request(url()).get('/v1/sessions?limit=100').set(bearer(crm));
      await request(url()).post(`/v1/sessions/${created.id}/cancel`).set(bearer(crm)).expect(200);
      await stream.until((event) => event.data.state === 'cancelled', 'the cancellation');
      await eventually(() => stack.receiver.received.some((hook) => hook.body.includes(created.id) && hook.body.includes('session.cancelled')), 'the webhook');
      const seen = [again.text, list.text, JSON.stringify(stream.events), stack.receiver.received.map((hook) => hook.body).join('\n'), stack.service.logs.text].join('\n');
      expect(seen).toContain(created.id);
      expect(seen).not.toContain(code);
      expect(seen).not.toContain('console_url');
    } finally {
      stream.close();
    }
  });

  test('when the code is opened, then a console token for that session; opened again, 401 CONSOLE_LINK_INVALID; an unknown code too', async () => {
    const created = await apiSession();
    const first = await openLink(codeOf(created.console_url));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, session: { id: created.id, state: 'capturing' }, version: expect.any(Number) });
    const second = await openLink(codeOf(created.console_url));
    expect(second.status).toBe(401);
    expect(second.body.error).toEqual({ code: 'CONSOLE_LINK_INVALID', message: 'This console link was opened already: a link opens once. Ask for a new one.' });
    const unknown = await openLink(randomBytes(32).toString('base64url'));
    expect(unknown.body.error).toEqual({ code: 'CONSOLE_LINK_INVALID', message: 'This console link is not valid' });
    expect((await openLink('x'.repeat(100))).status).toBe(422);
  });

  test('when the client asks for the link again, then a new console_url and the unopened one stops working; a read-only client or another client cannot', async () => {
    const created = await apiSession();
    const reissued = await request(url()).post(`/v1/sessions/${created.id}/console-link`).set(bearer(crm));
    expect(reissued.status).toBe(201);
    expect(reissued.body).toEqual({ console_url: expect.stringMatching(/#code=/), expires_at: expect.any(String) });
    expect(Date.parse(reissued.body.expires_at) - Date.now()).toBeGreaterThan(500_000);
    expect((await openLink(codeOf(created.console_url))).status).toBe(401);
    expect((await openLink(codeOf(reissued.body.console_url))).status).toBe(200);
    const reader = await stack.token('reader');
    expect((await request(url()).post(`/v1/sessions/${created.id}/console-link`).set(bearer(reader))).status).toBe(403);
    const signedIn = await signIn(url());
    const consoleOwned = await signedIn.agent.post('/console/api/sessions').set('X-CSRF-Token', signedIn.csrf).send({ type: 'agent', call_sid: newCall(), connector: 'Default', currency: 'USD' });
    expect((await request(url()).post(`/v1/sessions/${consoleOwned.body.session.id}/console-link`).set(bearer(crm))).status).toBe(404);
    await signedIn.agent.post(`/console/api/sessions/${consoleOwned.body.session.id}/cancel`).set('X-CSRF-Token', signedIn.csrf).expect(200);
  });

  test('when a console token is used, then it acts on its own session (history: console:link:crm), not on another one of the same client, not on the session API, and cannot start sessions', async () => {
    const created = await apiSession();
    const other = await apiSession();
    const token = await consoleToken(created.console_url);
    expect((await request(url()).post(`/console/api/sessions/${created.id}/capture`).set(bearer(token)).send({ field: 'card_number' })).status).toBe(200);
    const elsewhere = await request(url()).post(`/console/api/sessions/${other.id}/capture`).set(bearer(token)).send({ field: 'card_number' });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body.error.code).toBe('SESSION_NOT_FOUND');
    expect((await request(url()).get(`/v1/sessions/${created.id}`).set(bearer(token))).status).toBe(401);
    const start = await request(url()).post('/console/api/sessions').set(bearer(token)).send({ type: 'agent', call_sid: newCall(), connector: 'Default', currency: 'USD' });
    expect(start.status).toBe(403);
    expect(start.body.error.code).toBe('CONSOLE_LINK_SCOPE');
    expect((await request(url()).post(`/console/api/sessions/${created.id}/cancel`).set(bearer(token))).status).toBe(200);
    const history = await request(url()).get(`/v1/sessions/${created.id}/history`).set(bearer(crm));
    expect(history.body.history.map((line: { actor: string; action: string }) => `${line.actor} ${line.action}`)).toEqual(
      expect.arrayContaining(['client:crm created', 'console:link:crm capture card_number', 'console:link:crm cancelled']),
    );
    await request(url()).post(`/v1/sessions/${other.id}/cancel`).set(bearer(crm)).expect(200);
  });

  test("when a session API token is used on the console API, or a forged console token, then 401; a signed-in console cannot reach an API client's session", async () => {
    const created = await apiSession();
    expect((await request(url()).get(`/console/api/sessions/${created.id}`).set(bearer(crm))).status).toBe(401);
    const forged = `${(await consoleToken(created.console_url)).slice(0, -4)}AAAA`;
    expect((await request(url()).get(`/console/api/sessions/${created.id}`).set(bearer(forged))).status).toBe(401);
    expect((await request(url()).get(`/console/api/sessions/${created.id}`)).body.error.code).toBe('CONSOLE_SIGN_IN_REQUIRED');
    const signedIn = await signIn(url());
    expect((await signedIn.agent.get(`/console/api/sessions/${created.id}`)).status).toBe(404);
    await request(url()).post(`/v1/sessions/${created.id}/cancel`).set(bearer(crm)).expect(200);
  });

  test('when the owning client is removed, then its console tokens are refused', async () => {
    const created = await apiSession();
    const token = await consoleToken(created.console_url);
    expect((await request(url()).get(`/console/api/sessions/${created.id}`).set(bearer(token))).status).toBe(200);
    const clients = JSON.parse(fs.readFileSync(stack.clientsFile, 'utf8')) as { clients: Array<{ client_id: string }> };
    const original = JSON.stringify(clients);
    fs.writeFileSync(stack.clientsFile, JSON.stringify({ clients: clients.clients.filter((client) => client.client_id !== 'crm') }));
    try {
      await until(async () => (await request(url()).get(`/console/api/sessions/${created.id}`).set(bearer(token))).status, (status) => status === 401, 'the console token to be refused');
    } finally {
      fs.writeFileSync(stack.clientsFile, original);
      await until(async () => (await request(url()).post('/oauth/token').auth('crm', CRM_SECRET).type('form').send({ grant_type: 'client_credentials' })).status, (status) => status === 200, 'crm to be back');
    }
    crm = await stack.token('crm');
    await request(url()).post(`/v1/sessions/${created.id}/cancel`).set(bearer(crm)).expect(200);
  });
});

describe('event stream tickets', () => {
  test('when a ticket opens a stream, then it works once and only for its session, and the stream starts with the whole session', async () => {
    const created = await apiSession();
    const other = await apiSession();
    const token = await consoleToken(created.console_url);
    const ticket = await request(url()).post(`/console/api/sessions/${created.id}/stream-ticket`).set(bearer(token));
    expect(ticket.status).toBe(201);
    const events = (value: string, id = created.id) => `/console/api/sessions/${id}/events?ticket=${encodeURIComponent(value)}`;
    const forOther = await request(url()).get(events(ticket.body.ticket, other.id));
    expect(forOther.status).toBe(401);
    expect(forOther.body.error.code).toBe('STREAM_TICKET_INVALID');
    // The ticket was spent on the refusal: a ticket is tried once, whatever the session it names.
    const fresh = await request(url()).post(`/console/api/sessions/${created.id}/stream-ticket`).set(bearer(token));
    const stream = await openEventStream(`${url()}${events(fresh.body.ticket)}`, 'unused');
    try {
      const first = await stream.until(() => true, 'the session');
      expect(first.data).toMatchObject({ id: created.id, state: 'capturing' });
      const reused = await request(url()).get(events(fresh.body.ticket));
      expect(reused.status).toBe(401);
      expect(reused.body.error.code).toBe('STREAM_TICKET_INVALID');
    } finally {
      stream.close();
    }
    expect((await request(url()).get(events('not-a-ticket'))).status).toBe(401);
    expect((await request(url()).post(`/console/api/sessions/${other.id}/stream-ticket`).set(bearer(token))).status).toBe(404);
    await request(url()).post(`/v1/sessions/${created.id}/cancel`).set(bearer(crm)).expect(200);
    await request(url()).post(`/v1/sessions/${other.id}/cancel`).set(bearer(crm)).expect(200);
  });
});

test('across these tests, no secret reached a log line: passwords, client secrets, the signing key, console codes', () => {
  expectNoSecretsIn(stack.service.logs.text, [AGENT.password, OTHER_AGENT.password, TARGET.password, CRM_SECRET, READER_SECRET, WEBHOOK_SECRET, TOKEN_SIGNING_KEY, ...entries.map((entry) => entry.password_hash)]);
  expect(stack.service.logs.text).not.toMatch(/#code=|console\/session#/);
});

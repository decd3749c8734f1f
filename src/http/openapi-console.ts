import { captureSchema, createDigitalSessionSchema, createSessionSchema, sessionResourceSchema } from '../sessions/session-schemas';

/** The agent console's pages and the JSON API its script calls, in the OpenAPI document (served with the session API). */
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const apiError = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
};
const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });
const asset = (summary: string, type: string) => ({ get: { summary, responses: { 200: { description: summary, content: { [type]: { schema: { type: 'string' } } } } } } });
const sessionId = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
/** Either way in: a console token, or the signed-in agent's cookie with (on a change) its CSRF token. */
const consoleAuth = [{ consoleToken: [] }, { consoleSignIn: [], consoleCsrf: [] }];
const consoleSession = {
  type: 'object',
  required: ['session', 'version'],
  properties: { session: { ...sessionResourceSchema, description: 'The session, without a saved card\'s token_id' }, version: { type: 'integer' } },
};
const failures = (extra: Record<number, string> = {}) =>
  Object.fromEntries(
    Object.entries({ 401: 'Not signed in (CONSOLE_SIGN_IN_REQUIRED), or the console token is invalid', 403: 'CSRF_TOKEN_INVALID', 404: 'SESSION_NOT_FOUND', ...extra }).map(([status, description]) => [
      status,
      json(apiError, description),
    ]),
  );
const action = (summary: string, body?: object) => ({
  post: {
    summary,
    security: consoleAuth,
    parameters: sessionId,
    ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } } : {}),
    responses: { 200: json(consoleSession, 'The session now'), ...failures({ 409: "The session's state does not allow it", 422: 'The body fails its schema' }) },
  },
});

export const consoleSecuritySchemes = {
  consoleToken: { type: 'http', scheme: 'bearer', description: 'The console token a console_url code is exchanged for (POST /console/api/link-token): one session' },
  consoleSignIn: { type: 'apiKey', in: 'cookie', name: 'pb_console', description: "The signed-in agent's cookie (POST /console/sign-in)" },
  consoleCsrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: 'The CSRF token of the signed-in console page, on every change' },
};

export const consolePaths = {
  '/console': { get: { summary: 'The console for a signed-in agent, or the sign-in form (?call_sid= is kept)', responses: { 200: html('The page') } } },
  '/console/session': { get: { summary: 'The console of a console_url (its code in the fragment, read by the page)', responses: { 200: html('The page') } } },
  '/console/sign-in': {
    post: {
      summary: 'Sign an agent in (form: _csrf, name, password, call_sid); throttled per address and agent',
      requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: { type: 'object' } } } },
      responses: { 303: { description: 'Signed in: to /console' }, 401: html('Wrong name or password'), 403: html('No CSRF token'), 429: html('Too many failures') },
    },
  },
  '/console/sign-out': {
    post: { summary: 'Sign out (form: _csrf)', security: [{ consoleSignIn: [] }], responses: { 303: { description: 'Signed out: to /console' }, 403: { description: 'No CSRF token' } } },
  },
  '/console/assets/console.js': asset("The console's script", 'text/javascript'),
  '/console/assets/console.css': asset("The console's stylesheet", 'text/css'),
  '/console/assets/console.svg': asset("The console's icon", 'image/svg+xml'),
  '/console/api/link-token': {
    post: {
      summary: "Exchange a console_url's code (once, before it expires) for a console token",
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['code'], properties: { code: { type: 'string' } } } } } },
      responses: {
        200: json({ type: 'object', properties: { token: { type: 'string' }, token_type: { const: 'Bearer' }, expires_in: { type: 'integer' }, session: sessionResourceSchema, version: { type: 'integer' } } }, 'The token and the session'),
        401: json(apiError, 'CONSOLE_LINK_INVALID: unknown, used or expired'),
        422: json(apiError, 'No code'),
      },
    },
  },
  '/console/api/sessions': {
    post: {
      summary: 'Start a payment session as the signed-in agent (Idempotency-Key honoured): agent assist, or digital (pay by link)',
      description:
        "A digital session's connector is a gateway connector with configured credentials (those the start form offers), send_sms must be true and customer.phone is required: the link is texted to the customer. The answer never holds link_url: the agent is not the customer, and the link is the customer's bearer credential for the payment page.",
      security: [{ consoleSignIn: [], consoleCsrf: [] }],
      requestBody: { required: true, content: { 'application/json': { schema: { oneOf: [createSessionSchema, createDigitalSessionSchema] } } } },
      responses: {
        201: json(consoleSession, 'The session (for a digital one: with its sms state; never its link)'),
        ...failures({
          403: 'CSRF_TOKEN_INVALID, or CONSOLE_LINK_SCOPE for a console token',
          409: 'The call has an active session',
          422: 'The body fails its schema; CONNECTOR_NOT_CONFIGURED; PHONE_NOT_ALLOWED',
          429: 'SMS_LIMIT_REACHED: the number had as many link messages as it may this hour',
        }),
      },
    },
  },
  '/console/api/sessions/{id}': { get: { summary: 'The session', security: consoleAuth, parameters: sessionId, responses: { 200: json(consoleSession, 'The session'), ...failures() } } },
  '/console/api/sessions/{id}/capture': action('Ask the caller for a field (again)', captureSchema),
  '/console/api/sessions/{id}/complete': action('Process the payment'),
  '/console/api/sessions/{id}/cancel': action('Cancel the payment'),
  '/console/api/sessions/{id}/send-link': {
    post: {
      summary: "Text a digital session's payment link again (a new link; earlier ones keep working until the session's expiry; at most 5 messages a session)",
      description: 'The answer is the session with its sms state, never the link.',
      security: consoleAuth,
      parameters: sessionId,
      responses: {
        200: json(consoleSession, 'The session now'),
        ...failures({ 404: 'SESSION_NOT_FOUND (or not a digital session)', 409: 'SESSION_ENDED', 422: 'PHONE_NOT_ALLOWED; SMS_NOT_CONFIGURED', 429: 'SMS_LIMIT_REACHED' }),
      },
    },
  },
  '/console/api/sessions/{id}/stream-ticket': {
    post: {
      summary: 'A single-use ticket (a minute) that opens one event stream of the session',
      security: consoleAuth,
      parameters: sessionId,
      responses: { 201: json({ type: 'object', properties: { ticket: { type: 'string' }, expires_at: { type: 'string', format: 'date-time' } } }, 'The ticket'), ...failures() },
    },
  },
  '/console/api/sessions/{id}/events': {
    get: {
      summary: 'Server-Sent Events of the session (as /v1/sessions/{id}/events), opened with a ticket; last_event_id resumes',
      parameters: [
        ...sessionId,
        { name: 'ticket', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'last_event_id', in: 'query', required: false, schema: { type: 'integer' } },
      ],
      responses: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 401: json(apiError, 'STREAM_TICKET_INVALID'), 429: json(apiError, 'Too many streams') },
    },
  },
};

import { captureSchema, createSessionSchema, listQuerySchema, sessionResourceSchema } from '../sessions/session-schemas';

/** The session API in the OpenAPI document, from the schemas its requests are validated with. */
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const apiError = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
};
const failures = (extra: Record<number, string> = {}) =>
  Object.fromEntries(
    Object.entries({ 401: 'Missing, expired or invalid access token', 404: 'No such session (another client\'s included)', 429: 'Too many failed authentications', ...extra }).map(
      ([status, description]) => [status, json(apiError, description)],
    ),
  );
const sessionId = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
const write = [{ oauth: ['sessions:write'] }];
const read = [{ oauth: ['sessions:read'] }, { oauth: ['sessions:write'] }];
const action = (summary: string, body?: object) => ({
  post: {
    summary,
    security: write,
    parameters: sessionId,
    ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } } : {}),
    responses: { 200: json(sessionResourceSchema, 'The session'), ...failures({ 403: 'The token lacks sessions:write', 409: 'The session\'s state does not allow it (SESSION_NOT_CAPTURING, FIELDS_MISSING, ...)', 422: 'The body fails its schema', 502: 'Twilio could not be reached' }) },
  },
});

export const sessionSecuritySchemes = {
  oauth: {
    type: 'oauth2',
    description: 'OAuth2 client credentials (RFC 6749 4.4): API clients from API_CLIENTS_FILE',
    flows: { clientCredentials: { tokenUrl: '/oauth/token', scopes: { 'sessions:write': 'Create, capture, complete and cancel sessions (and read them)', 'sessions:read': 'Read sessions' } } },
  },
  twilioSignature: { type: 'apiKey', in: 'header', name: 'X-Twilio-Signature', description: "Twilio's request signature under TWILIO_AUTH_TOKEN" },
};

export const sessionPaths = {
  '/oauth/token': {
    post: {
      summary: 'An access token (OAuth2 client credentials)',
      requestBody: {
        required: true,
        content: {
          'application/x-www-form-urlencoded': {
            schema: { type: 'object', required: ['grant_type'], properties: { grant_type: { const: 'client_credentials' }, client_id: { type: 'string' }, client_secret: { type: 'string' }, scope: { type: 'string' } } },
          },
        },
      },
      responses: {
        200: json({ type: 'object', required: ['access_token', 'token_type', 'expires_in', 'scope'], properties: { access_token: { type: 'string' }, token_type: { const: 'Bearer' }, expires_in: { type: 'integer' }, scope: { type: 'string' } } }, 'The token'),
        400: json({ type: 'object', properties: { error: { enum: ['invalid_request', 'invalid_grant', 'invalid_scope', 'unsupported_grant_type'] }, error_description: { type: 'string' } } }, 'RFC 6749 error'),
        401: json({ type: 'object', properties: { error: { const: 'invalid_client' }, error_description: { type: 'string' } } }, 'Unknown client or wrong secret'),
        429: json(apiError, 'Too many failed authentications'),
      },
    },
  },
  '/v1/sessions': {
    post: {
      summary: 'Start a payment session on a live call (Idempotency-Key honoured)',
      security: write,
      parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } }],
      requestBody: { required: true, content: { 'application/json': { schema: createSessionSchema } } },
      responses: { 201: json(sessionResourceSchema, 'The session (failed, with Twilio\'s code in its result, when Twilio refused)'), ...failures({ 403: 'The token lacks sessions:write', 409: 'The Idempotency-Key was used with another body, or the call has an active session', 422: 'The body fails its schema' }) },
    },
    get: {
      summary: "The client's sessions, newest first",
      security: read,
      parameters: Object.entries(listQuerySchema.properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
      responses: { 200: json({ type: 'object', properties: { sessions: { type: 'array', items: sessionResourceSchema } } }, 'Sessions'), ...failures({ 422: 'Invalid query' }) },
    },
  },
  '/v1/sessions/{id}': { get: { summary: 'One session', security: read, parameters: sessionId, responses: { 200: json(sessionResourceSchema, 'The session'), ...failures() } } },
  '/v1/sessions/{id}/history': {
    get: {
      summary: 'Who changed the session, how, and when',
      security: read,
      parameters: sessionId,
      responses: { 200: json({ type: 'object', properties: { history: { type: 'array', items: { type: 'object' } } } }, 'Its history'), ...failures() },
    },
  },
  '/v1/sessions/{id}/capture': action('Ask the caller for a field (again, at any time)', captureSchema),
  '/v1/sessions/{id}/complete': action('Process the payment, once nothing is required'),
  '/v1/sessions/{id}/cancel': action('Cancel the payment'),
  '/v1/sessions/{id}/events': {
    get: {
      summary: 'Server-Sent Events: one `session` event with the whole session on connect and on every change (Last-Event-ID honoured; a comment every 15 s)',
      security: read,
      parameters: sessionId,
      responses: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...failures({ 429: 'Too many streams open for this client' }) },
    },
  },
  '/twilio/sessions/{id}/status': {
    post: {
      summary: "Twilio's status callbacks for a session (signed)",
      security: [{ twilioSignature: [] }],
      parameters: sessionId,
      responses: { 200: { description: 'Taken' }, 400: json(apiError, 'No signature'), 403: json(apiError, 'A signature Twilio did not make') },
    },
  },
};

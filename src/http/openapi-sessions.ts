import { oauthOpenApi } from './oauth-routes';
import { captureSchema, createDigitalSessionSchema, createIvrSessionSchema, createSessionSchema, listQuerySchema, sessionResourceSchema } from '../sessions/session-schemas';

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
const write = [{ sessionsOAuth: ['sessions:write'] }];
const read = [{ sessionsOAuth: ['sessions:read'] }];
const action = (summary: string, body?: object) => ({
  post: {
    summary,
    security: write,
    parameters: sessionId,
    ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } } : {}),
    responses: { 200: json(sessionResourceSchema, 'The session'), ...failures({ 403: 'The token lacks sessions:write', 409: 'The session\'s state does not allow it (SESSION_NOT_CAPTURING, FIELDS_MISSING, ...)', 422: 'The body fails its schema', 502: 'Twilio could not be reached' }) },
  },
});

/** The agent console's one-time way in, in the answer that creates an agent session. */
const consoleUrl = {
  type: 'string',
  format: 'uri',
  description: "An agent session's console: opens once, within CONSOLE_LINK_TTL_S (its code is in the fragment). Shown only here and by POST /v1/sessions/{id}/console-link",
};
const consoleLinkSchema = {
  type: 'object',
  required: ['console_url', 'expires_at'],
  additionalProperties: false,
  properties: { console_url: { type: 'string', format: 'uri' }, expires_at: { type: 'string', format: 'date-time' } },
};
const linkUrl = {
  type: 'string',
  format: 'uri',
  description: "A digital session's payment page (PUBLIC_URL/pay/{token}), for the customer: valid until expires_at. Shown only here and by POST /v1/sessions/{id}/send-link",
};
const twimlUrl = { type: 'string', format: 'uri', description: 'A bearer link for Twilio: the merchant\'s IVR redirects the call to it. Shown once.' };
const twimlResponses = (notFound: string) => ({
  200: { description: 'TwiML', content: { 'text/xml': { schema: { type: 'string' } } } },
  400: json(apiError, 'No signature'),
  403: json(apiError, 'A signature Twilio did not make'),
  404: json(apiError, notFound),
});

const twimlLink = {
  summary: "An IVR session's twiml_url, fetched by Twilio (signed): the <Pay> once, then a <Redirect> to return_url with the session's state",
  security: [{ twilioSignature: [] }],
  parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } }],
  responses: twimlResponses('No such link'),
};

export const sessionSecuritySchemes = {
  ...oauthOpenApi.securitySchemes,
  twilioSignature: { type: 'apiKey', in: 'header', name: 'X-Twilio-Signature', description: "Twilio's request signature under TWILIO_AUTH_TOKEN" },
};

export const sessionPaths = {
  ...oauthOpenApi.paths,
  '/v1/sessions': {
    post: {
      summary: 'Start a payment session: agent-assisted on a live call, IVR self-service, or digital (pay by link) (Idempotency-Key honoured)',
      security: write,
      parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } }],
      requestBody: { required: true, content: { 'application/json': { schema: { oneOf: [createSessionSchema, createIvrSessionSchema, createDigitalSessionSchema] } } } },
      responses: {
        201: json(
          { allOf: [sessionResourceSchema, { type: 'object', properties: { twiml_url: twimlUrl, console_url: consoleUrl, link_url: linkUrl } }] },
          "The session (failed, with Twilio's code in its result, when Twilio refused); an IVR session's twiml_url, an agent session's console_url or a digital session's link_url, in this answer only",
        ), ...failures({ 403: 'The token lacks sessions:write', 409: 'The Idempotency-Key was used with another body, or the call has an active session', 422: 'The body fails its schema' }) },
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
  '/v1/sessions/{id}/console-link': {
    post: {
      summary: "A new console_url for the session (an earlier one not yet opened stops working)",
      security: write,
      parameters: sessionId,
      responses: { 201: json(consoleLinkSchema, 'The console link, shown this once'), ...failures({ 403: 'The token lacks sessions:write' }) },
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
  '/v1/sessions/{id}/twiml-link': {
    post: {
      summary: "A new twiml_url for an IVR session Twilio has not fetched yet (the earlier one stops working)",
      security: write,
      parameters: sessionId,
      responses: {
        201: json({ type: 'object', required: ['twiml_url', 'expires_at'], properties: { twiml_url: twimlUrl, expires_at: { type: 'string', format: 'date-time' } } }, 'The link, shown once'),
        ...failures({ 403: 'The token lacks sessions:write', 409: 'The TwiML was fetched already (CALLER_IS_PAYING) or the session ended (SESSION_ENDED)' }),
      },
    },
  },
  '/v1/sessions/{id}/send-link': {
    post: {
      summary: "Text a digital session's link again: a new link_url (the earlier ones keep working until expires_at); at most 5 messages a session",
      security: write,
      parameters: sessionId,
      responses: {
        201: json(
          {
            type: 'object',
            required: ['link_url', 'sms', 'expires_at'],
            properties: { link_url: linkUrl, sms: sessionResourceSchema.properties.sms, expires_at: { type: 'string', format: 'date-time' } },
          },
          'The link, shown once, and how its message went',
        ),
        ...failures({
          403: 'The token lacks sessions:write',
          409: 'The session has ended (SESSION_ENDED)',
          422: 'No phone to text, or one SMS_ALLOWED_COUNTRIES does not allow (PHONE_NOT_ALLOWED); no sender (SMS_NOT_CONFIGURED)',
          429: 'Too many messages to this number this hour, or for this session (SMS_LIMIT_REACHED)',
        }),
      },
    },
  },
  '/twilio/sessions/{id}/sms-status': {
    post: {
      summary: "Twilio's delivery status callbacks of a digital session's link message (signed)",
      security: [{ twilioSignature: [] }],
      parameters: sessionId,
      responses: { 200: { description: 'Taken' }, 400: json(apiError, 'No signature'), 403: json(apiError, 'A signature Twilio did not make') },
    },
  },
  '/pay/{token}': {
    get: {
      summary: "The payment page of a digital session's link (HTML): the form, processing, the result, or the page of a cancelled (200), expired (410) or unknown (404) link",
      parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        200: { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } },
        404: { description: 'No such link', content: { 'text/html': { schema: { type: 'string' } } } },
        410: { description: 'The link has expired', content: { 'text/html': { schema: { type: 'string' } } } },
        429: { description: 'Too many requests from this address or on this link (PAY_PAGE_REQUESTS_PER_MINUTE)' },
      },
    },
    post: {
      summary: 'The payment form (its CSRF token and attempt number): answered with a redirect to the page for the session\'s state (post-redirect-get)',
      parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        303: { description: 'To the page; its field problems named in ?problems=field:problem, never a value' },
        410: { description: 'The link has expired: nothing was charged', content: { 'text/html': { schema: { type: 'string' } } } },
      },
    },
  },
  '/pay/assets/pay.js': {
    get: { summary: "The payment page's one script (its integrity hash is in src/web/pay/script-inventory.json)", responses: { 200: { description: 'JavaScript', content: { 'text/javascript': { schema: { type: 'string' } } } } } },
  },
  '/pay/assets/pay.css': {
    get: { summary: "The payment page's stylesheet", responses: { 200: { description: 'CSS', content: { 'text/css': { schema: { type: 'string' } } } } } },
  },
  '/pay/assets/pay.svg': {
    get: { summary: "The payment page's icon", responses: { 200: { description: 'SVG', content: { 'image/svg+xml': { schema: { type: 'string' } } } } } },
  },
  '/pay/{token}/presence': {
    post: {
      summary: "The payment page's heartbeat (its CSRF token in X-CSRF-Token): the customer is present, with how many characters each field holds",
      parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { type: 'object', properties: { typed: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } } } } } },
      },
      responses: { 204: { description: 'Seen' }, 403: json(apiError, 'No valid CSRF token'), 404: json(apiError, 'No such link'), 410: json(apiError, 'The link has expired') },
    },
  },
  '/twilio/ivr/{token}': {
    post: twimlLink,
    get: twimlLink,
  },
  '/twilio/ivr/sessions/{id}/result': {
    post: {
      summary: "The <Pay> action of an IVR session (signed): ends the session, and hands the call back to return_url",
      security: [{ twilioSignature: [] }],
      parameters: sessionId,
      responses: twimlResponses('No such IVR session'),
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

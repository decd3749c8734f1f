import { createHash } from 'node:crypto';
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { BridgeError, TooManyAuthFailures, TooManyCredentialChecks } from '../errors';
import { describeUnexpected, type Logger } from '../logging/logger';
import type { AccessTokens } from '../security/access-tokens';
import type { ApiClientRegistry } from '../sessions/api-client-registry';
import { impliedScopes, SCOPES, type ApiClient, type Scope } from '../sessions/api-clients';
import type { AuthSubject, AuthThrottle } from './auth-throttle';
import { basicCredentials } from './basic-authentication';
import { contextOf, markAuthenticated } from './request-context';

export const TOKEN_PATH = '/oauth/token';
/** A token request is a few short parameters. */
export const TOKEN_REQUEST_BODY_LIMIT_BYTES = 4096;
const FORM_TYPE = 'application/x-www-form-urlencoded';

export interface OAuthRoutesOptions {
  clients: Pick<ApiClientRegistry, 'authenticate'>;
  tokens: Pick<AccessTokens, 'issue'>;
  throttle: AuthThrottle;
  logger: Logger;
}

/** RFC 6749 5.2's error codes, and `temporarily_unavailable` (its 4.1.2.1) for throttled or busy requests. */
type TokenErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_scope' | 'unsupported_grant_type' | 'temporarily_unavailable' | 'server_error';

/** A refusal in the RFC's own terms: this endpoint alone speaks them, so they are not BridgeErrors. */
class TokenRequestRefused extends Error {
  constructor(
    readonly status: number,
    readonly error: TokenErrorCode,
    readonly description: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(description);
  }
}

/**
 * `POST /oauth/token`: OAuth 2.0 client credentials (RFC 6749 4.4). The client authenticates
 * with `client_id` and `client_secret` in the form body or with HTTP Basic (one or the other),
 * asks for `grant_type=client_credentials` and optionally a `scope` (space separated, within its
 * own; all of its own by default), and gets a Bearer access token (AccessTokens). Errors are the
 * RFC's `{"error", "error_description"}`. Failed client authentications are counted like failed
 * Basic ones (AuthThrottle, account = the client id); secret checks are bounded (SecretChecks).
 */
export function oauthRoutes({ clients, tokens, throttle, logger }: OAuthRoutesOptions): Router {
  const router = Router();
  const named: RequestHandler = (_req, res, next) => {
    contextOf(res).route = TOKEN_PATH;
    next();
  };
  // An address over its failure limit is refused before its body is read.
  const addressNotThrottled: RequestHandler = (_req, res, next) => {
    throttle.check({ address: contextOf(res).clientAddress });
    next();
  };
  // Read as text and parsed with URLSearchParams: no nesting, no prototype keys, repeats visible.
  const readForm = express.text({ type: FORM_TYPE, limit: TOKEN_REQUEST_BODY_LIMIT_BYTES });

  const issueToken: RequestHandler = async (req, res) => {
    const context = contextOf(res);
    if (new URL(req.originalUrl, 'http://local').searchParams.has('client_secret')) {
      throw refused(400, 'invalid_request', 'client_secret must not be sent in the URL');
    }
    if (!req.is(FORM_TYPE)) throw refused(400, 'invalid_request', `The body must be ${FORM_TYPE}`);
    const form = formParameters(typeof req.body === 'string' ? req.body : '');
    let credentials: { clientId?: string; clientSecret?: string };
    try {
      credentials = clientCredentials(req, form);
    } catch (error) {
      if (error instanceof TokenRequestRefused && error.error === 'invalid_client') throttle.fail({ address: context.clientAddress });
      throw error;
    }
    if (!credentials.clientId || !credentials.clientSecret) {
      throttle.fail({ address: context.clientAddress, account: credentials.clientId || undefined });
      throw refused(401, 'invalid_client', 'Client authentication is required: client_id and client_secret, in the body or with HTTP Basic');
    }
    if (form.grant_type === undefined) throw refused(400, 'invalid_request', 'grant_type is required');
    if (form.grant_type !== 'client_credentials') throw refused(400, 'unsupported_grant_type', 'Only grant_type=client_credentials is served');
    const requested = form.scope === undefined ? undefined : requestedScopes(form.scope);

    const client = await authenticateClient(credentials.clientId, credentials.clientSecret, res);
    const scopes = grantedScopes(client, requested);
    const issued = await tokens.issue(client, scopes);
    const scope = issued.scopes.join(' ');
    logger.info('access token issued', { request_id: context.requestId, client_id: client.clientId, scope, expires_in: issued.expiresIn });
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json({ access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn, scope });
  };

  async function authenticateClient(clientId: string, clientSecret: string, res: Response): Promise<ApiClient> {
    const context = contextOf(res);
    // The throttle keys concurrent checks by credential: a burst of one client's genuine requests counts once.
    const subject: AuthSubject = { address: context.clientAddress, account: clientId, credential: createHash('sha256').update(clientSecret).digest('base64url') };
    throttle.check(subject);
    // The check takes time (scrypt): meanwhile it counts as a failure, so concurrent guesses cannot outrun the limit.
    const end = throttle.begin(subject, true);
    let client: ApiClient | undefined;
    try {
      client = await clients.authenticate(clientId, clientSecret);
    } catch (error) {
      end('other');
      throw error;
    }
    if (!client) {
      end('refused');
      throw refused(401, 'invalid_client', 'Client authentication failed');
    }
    end('accepted');
    markAuthenticated(context);
    return client;
  }

  const answerRefusal: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
    const refusal = asRefusal(error);
    if (refusal.error === 'server_error') logger.error('token request failed', { request_id: contextOf(res).requestId, ...describeUnexpected(error) });
    contextOf(res).errorCode = refusal.error;
    if (res.headersSent) return;
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    // HTTP requires a challenge with every 401 (RFC 9110 11.6.1); RFC 6749 5.2 names Basic's.
    if (refusal.status === 401) res.set('WWW-Authenticate', 'Basic realm="oauth", charset="UTF-8"');
    if (refusal.retryAfterSeconds !== undefined) res.set('Retry-After', String(refusal.retryAfterSeconds));
    res.status(refusal.status).json({ error: refusal.error, error_description: refusal.description });
  };

  router.post(TOKEN_PATH, named, addressNotThrottled, readForm, issueToken);
  router.all(TOKEN_PATH, named, (_req, res) => {
    res.set('Allow', 'POST');
    throw refused(405, 'invalid_request', 'Only POST is served here');
  });
  router.use(TOKEN_PATH, answerRefusal);
  return router;
}

function refused(status: number, error: TokenErrorCode, description: string): TokenRequestRefused {
  return new TokenRequestRefused(status, error, description);
}

/** The form's parameters; each at most once (RFC 6749 3.2). */
function formParameters(body: string): Record<string, string | undefined> {
  const params = new URLSearchParams(body);
  const form: Record<string, string | undefined> = {};
  for (const name of ['grant_type', 'scope', 'client_id', 'client_secret']) {
    const values = params.getAll(name);
    if (values.length > 1) throw refused(400, 'invalid_request', `${name} is given more than once`);
    form[name] = values[0];
  }
  return form;
}

/**
 * The client's id and secret from HTTP Basic or from the body, never both (RFC 6749 2.3). In
 * Basic they are form-encoded first (2.3.1), so they are decoded here.
 */
function clientCredentials(req: Request, form: Record<string, string | undefined>): { clientId?: string; clientSecret?: string } {
  const authorization = req.get('authorization');
  if (authorization === undefined) return { clientId: form.client_id, clientSecret: form.client_secret };
  const basic = basicCredentials(req);
  if (!basic.given) throw refused(401, 'invalid_client', 'Client authentication is HTTP Basic or client_id and client_secret in the body');
  if (form.client_secret !== undefined) throw refused(400, 'invalid_request', 'Send the client credentials with HTTP Basic or in the body, not both');
  const clientId = formDecoded(basic.username);
  if (form.client_id !== undefined && form.client_id !== clientId) throw refused(400, 'invalid_request', 'client_id differs from the HTTP Basic username');
  return { clientId, clientSecret: formDecoded(basic.password) };
}

function formDecoded(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw refused(401, 'invalid_client', 'The HTTP Basic credentials are not form-encoded');
  }
}

/** `scope`: space-separated scope names this service knows (the unknown ones are not echoed). */
function requestedScopes(text: string): Scope[] {
  const names = text.split(' ').filter((name) => name !== '');
  if (names.length === 0) throw refused(400, 'invalid_scope', 'scope is empty; leave it out for all of the client\'s scopes');
  const unknown = names.filter((name) => !(SCOPES as readonly string[]).includes(name));
  if (unknown.length > 0) throw refused(400, 'invalid_scope', `Unknown scope; the scopes are ${SCOPES.join(' and ')}`);
  return names as Scope[];
}

/** What was asked for, if the client holds it (`sessions:write` implies `sessions:read`), or all of its own. */
function grantedScopes(client: ApiClient, requested: Scope[] | undefined): Scope[] {
  if (requested === undefined) return client.scopes;
  const held = impliedScopes(client.scopes);
  const missing = requested.filter((scope) => !held.has(scope));
  if (missing.length > 0) throw refused(400, 'invalid_scope', `This client may not have ${missing.join(' ')}`);
  return requested;
}

/** Every failure as the RFC answers it: the service's own throttling and load shedding included. */
function asRefusal(error: unknown): TokenRequestRefused {
  if (error instanceof TokenRequestRefused) return error;
  if (error instanceof TooManyAuthFailures || error instanceof TooManyCredentialChecks) {
    return new TokenRequestRefused(error.httpStatus, 'temporarily_unavailable', error.message, error.retryAfterSeconds);
  }
  if (error instanceof BridgeError && error.httpStatus < 500) return refused(error.httpStatus, 'invalid_request', error.message);
  const status = (error as { status?: unknown } | null)?.status;
  const type = (error as { type?: unknown } | null)?.type;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // body-parser's: a body too large, a charset it cannot read, a body that did not arrive.
    const description = type === 'entity.too.large' ? `The body is larger than ${TOKEN_REQUEST_BODY_LIMIT_BYTES} bytes` : 'The body could not be read';
    return refused(status, 'invalid_request', description);
  }
  return refused(500, 'server_error', 'The token could not be issued');
}

const tokenError = {
  type: 'object',
  required: ['error', 'error_description'],
  properties: {
    error: { enum: ['invalid_request', 'invalid_client', 'invalid_scope', 'unsupported_grant_type', 'temporarily_unavailable', 'server_error'] },
    error_description: { type: 'string' },
  },
} as const;
const tokenErrorAnswer = (description: string) => ({ description, content: { 'application/json': { schema: tokenError } } });

/**
 * POST /oauth/token and the session API's security scheme (`sessionsOAuth`), for /openapi.json.
 * Session API operations name it with the scope they need: `security: [{ sessionsOAuth: ['sessions:write'] }]`.
 */
export const oauthOpenApi = {
  paths: {
    [TOKEN_PATH]: {
      post: {
        summary: 'An access token for the session API (OAuth 2.0 client credentials, RFC 6749 4.4)',
        security: [{}, { oauthClientBasic: [] }],
        requestBody: {
          required: true,
          content: {
            [FORM_TYPE]: {
              schema: {
                type: 'object',
                required: ['grant_type'],
                properties: {
                  grant_type: { const: 'client_credentials' },
                  scope: { type: 'string', description: 'Space-separated, within the client\'s scopes; all of them when left out' },
                  client_id: { type: 'string', description: 'With client_secret, when HTTP Basic is not used' },
                  client_secret: { type: 'string' },
                },
              },
            },
          },
        },
        responses: {
          200: {
            description: 'The token (Cache-Control: no-store)',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['access_token', 'token_type', 'expires_in', 'scope'],
                  properties: { access_token: { type: 'string' }, token_type: { const: 'Bearer' }, expires_in: { type: 'integer' }, scope: { type: 'string' } },
                },
              },
            },
          },
          400: tokenErrorAnswer('invalid_request, unsupported_grant_type or invalid_scope'),
          401: tokenErrorAnswer('invalid_client'),
          405: tokenErrorAnswer('Only POST'),
          413: tokenErrorAnswer('Body over 4 KB'),
          429: tokenErrorAnswer('Too many failed authentications (temporarily_unavailable)'),
          503: tokenErrorAnswer('Too many secret checks at once (temporarily_unavailable)'),
        },
      },
    },
  },
  securitySchemes: {
    oauthClientBasic: { type: 'http', scheme: 'basic', description: 'client_id and client_secret of an API client (npm run api-clients)' },
    sessionsOAuth: {
      type: 'oauth2',
      description: 'A Bearer access token from POST /oauth/token',
      flows: {
        clientCredentials: {
          tokenUrl: TOKEN_PATH,
          scopes: { 'sessions:write': 'Create sessions and act on them; implies sessions:read', 'sessions:read': 'Read sessions, their history and events' },
        },
      },
    },
  },
} as const;

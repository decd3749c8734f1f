import { createHmac } from 'node:crypto';
import { createSession } from 'better-sse';
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import {
  ConsoleLinkInvalid,
  ConsoleLinkScope,
  SessionNotFound,
  StreamTicketInvalid,
  TooManyAuthFailures,
  TooManyCredentialChecks,
  TooManyStreams,
  ValidationFailed,
} from '../errors';
import type { Logger } from '../logging/logger';
import type { AgentSessions } from '../sessions/agent-sessions';
import type { DigitalSessions } from '../sessions/digital-sessions';
import type { ApiClients } from '../sessions/api-clients';
import { consoleView, type ConsoleAccess } from '../sessions/console-access';
import { CONSOLE_USER_NAME_PATTERN } from '../sessions/console-users-file';
import type { ConsoleUsers } from '../sessions/console-users';
import type { ConsoleTokens } from '../security/console-tokens';
import type { SessionEvents } from '../sessions/session-events';
import {
  captureSchema,
  createDigitalSessionSchema,
  createSessionSchema,
  sessionTypeSchema,
  validated,
  type CreateDigitalSessionBody,
  type CreateSessionBody,
} from '../sessions/session-schemas';
import type { SessionType } from '../sessions/session';
import type { FieldKey, SessionRecord } from '../sessions/session';
import { CONSOLE_ICON, CONSOLE_ICON_PATH, CONSOLE_SCRIPT_PATH, CONSOLE_STYLES_PATH, consolePage, signInPage } from '../web/console/console-page';
import { CONSOLE_SCRIPT } from '../web/console/console-script';
import { CONSOLE_STYLES } from '../web/console/console-styles';
import { answerApiFailure } from './api-errors';
import type { AuthThrottle } from './auth-throttle';
import { ConsoleAuth, consolePrincipalOf, type ConsolePrincipal } from './console-auth';
import { contextOf, markAuthenticated } from './request-context';

export interface ConsoleRoutesOptions {
  sessions: AgentSessions;
  /** Pay by link: the console's Digital mode starts these, and texts their link again. */
  digital: DigitalSessions;
  events: SessionEvents;
  access: ConsoleAccess;
  users: ConsoleUsers;
  tokens: ConsoleTokens;
  clients: ApiClients;
  throttle: AuthThrottle;
  /** TOKEN_SIGNING_KEY, for the CSRF tokens' key. */
  signingKey: string;
  publicUrl: string;
  /** CONSOLE_FRAME_ANCESTORS: empty, no one may frame the console. */
  frameAncestors: string[];
  /** CONSOLE_CONNECTORS. */
  connectors: string[];
  maxStreamsPerClient: number;
  logger: Logger;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
const USER_NAME = new RegExp(CONSOLE_USER_NAME_PATTERN);
const HEARTBEAT_MS = 15_000;

/**
 * The agent payment console (/console): its pages and assets, the agents' sign-in, and the JSON
 * API its script calls (/console/api), every one of them a thin route over the same session use
 * cases as the session API (AgentSessions, DigitalSessions), acting as the agent (`console:<name>`,
 * or `console:link:<client id>` for a console opened from a console_url).
 *
 * A digital session's link_url never reaches the console: not in the answer that starts it, nor in
 * the one that texts it again, nor in any read or event (the resource never holds it). The link is
 * a bearer credential for the customer's own payment page, and the agent is not the customer: an
 * agent holding it could open the page and key in the card the customer reads out (the very card
 * handling pay by link takes off the agent's desk and out of the contact centre's PCI scope), or
 * pass it on to anyone. The agent sees that the link was sent and how its text message fares; a
 * message that went astray is sent again (a new link), never shown.
 */
export function consoleRoutes(options: ConsoleRoutesOptions): Router {
  const { sessions, access, throttle } = options;
  const router = Router();
  const auth = new ConsoleAuth({
    tokens: options.tokens,
    users: options.users,
    clients: options.clients,
    throttle,
    csrfSecret: createHmac('sha256', options.signingKey).update('paybridge console csrf v1').digest('hex'),
    publicUrl: options.publicUrl,
  });
  const json = express.json({ limit: 16 * 1024, type: () => true });
  const form = express.urlencoded({ extended: false, limit: 4 * 1024, parameterLimit: 10, type: () => true });
  const policy = contentSecurityPolicy(options.frameAncestors);
  const named =
    (route: string): RequestHandler =>
    (_req, res, next) => {
      Object.assign(contextOf(res), { route, apiErrors: true });
      next();
    };

  // Every console answer: the strict policy, no framing but by CONSOLE_FRAME_ANCESTORS, nothing cached.
  router.use('/console', auth.cookies, (_req, res, next) => {
    res.set({
      'Content-Security-Policy': policy,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    });
    // X-Frame-Options cannot name origins: DENY when nobody may frame, otherwise the CSP alone decides.
    if (options.frameAncestors.length === 0) res.set('X-Frame-Options', 'DENY');
    next();
  });

  router.get(CONSOLE_SCRIPT_PATH, named('/console/assets'), (_req, res) => {
    res.type('text/javascript').send(CONSOLE_SCRIPT);
  });
  router.get(CONSOLE_STYLES_PATH, named('/console/assets'), (_req, res) => {
    res.type('text/css').send(CONSOLE_STYLES);
  });
  router.get(CONSOLE_ICON_PATH, named('/console/assets'), (_req, res) => {
    res.type('image/svg+xml').send(CONSOLE_ICON);
  });

  // ---- Pages

  router.get('/console', named('/console'), async (req, res) => {
    const signedIn = await auth.signedIn(req);
    if (!signedIn) {
      res.type('text/html').send(signInPage({ csrfToken: auth.signInFormToken(req, res), callSid: callSidOf(req.originalUrl) }));
      return;
    }
    const csrfToken = auth.csrfTokenFor(req, res, signedIn.sid);
    res.type('text/html').send(
      consolePage({
        mode: 'signed-in',
        user: signedIn.user.name,
        csrfToken,
        connectors: options.connectors,
        digitalConnectors: options.digital.connectors(),
        frameAncestors: options.frameAncestors,
      }),
    );
  });

  router.get('/console/session', named('/console/session'), (_req, res) => {
    res.type('text/html').send(consolePage({ mode: 'link', connectors: options.connectors, frameAncestors: options.frameAncestors }));
  });

  router.post('/console/sign-in', named('/console/sign-in'), form, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const name = typeof body.name === 'string' ? body.name : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const callSid = typeof body.call_sid === 'string' && CALL_SID.test(body.call_sid) ? body.call_sid : undefined;
    const again = (status: number, error: string) => {
      res.status(status).type('text/html').send(signInPage({ csrfToken: auth.signInFormToken(req, res), callSid, error, name: USER_NAME.test(name) ? name : '' }));
    };
    if (!auth.validCsrf(req, 'pre-sign-in')) {
      contextOf(res).errorCode = 'CSRF_TOKEN_INVALID';
      return again(403, 'The sign-in form had expired. Please try again.');
    }
    const subject = { address: contextOf(res).clientAddress, account: `console:${name.slice(0, 64)}` };
    try {
      throttle.check(subject);
      const user = USER_NAME.test(name) ? await options.users.authenticate(name, password) : undefined;
      if (!user) {
        throttle.fail(subject);
        contextOf(res).errorCode = 'UNAUTHORIZED';
        return again(401, 'The name or the password is not right.');
      }
      markAuthenticated(contextOf(res));
      await auth.signIn(res, user);
      options.logger.info('console sign-in', { user: user.name });
      res.redirect(303, callSid ? `/console?call_sid=${callSid}` : '/console');
    } catch (error) {
      if (error instanceof TooManyAuthFailures) {
        contextOf(res).errorCode = error.code;
        res.set('Retry-After', String(error.retryAfterSeconds ?? 60));
        return again(429, 'Too many failed sign-ins from here. Wait a few minutes, then try again.');
      }
      if (error instanceof TooManyCredentialChecks) {
        contextOf(res).errorCode = error.code;
        return again(503, 'Too many sign-ins at once. Try again in a moment.');
      }
      throw error;
    }
  });

  router.post('/console/sign-out', named('/console/sign-out'), form, async (req, res) => {
    const signedIn = await auth.signedIn(req);
    if (signedIn && !auth.validCsrf(req, signedIn)) {
      contextOf(res).errorCode = 'CSRF_TOKEN_INVALID';
      res.status(403).type('text/plain').send('This sign-out needs the console page it came from: reload the page and sign out again.');
      return;
    }
    auth.signOut(res);
    res.redirect(303, '/console');
  });

  // ---- The console API (JSON; errors as the session API's)

  const answer = (res: Response, record: SessionRecord, status = 200) => {
    res.status(status).json({ session: consoleView(record.resource), version: record.version });
  };
  /** The principal's session: a console link's own one, or one the signed-in console started. */
  const sessionOf = async (principal: ConsolePrincipal, id: string): Promise<SessionRecord> => {
    if (principal.mode === 'link' && id !== principal.sessionId) throw new SessionNotFound('No session with that id');
    return sessions.get(principal.clientId, id);
  };
  const id = (req: Request) => String(req.params.id);

  router.post('/console/api/link-token', named('/console/api/link-token'), json, async (req, res) => {
    const { code } = validated<{ code: string }>(linkCodeSchema, req.body);
    const subject = { address: contextOf(res).clientAddress, account: 'console-link' };
    throttle.check(subject);
    let sessionId: string;
    try {
      sessionId = await access.open(code);
    } catch (error) {
      if (error instanceof ConsoleLinkInvalid && error.unknownCode) throttle.fail(subject);
      throw error;
    }
    markAuthenticated(contextOf(res));
    const record = await sessions.byId(sessionId);
    const client = options.clients.get(record.clientId);
    if (!client) throw new ConsoleLinkInvalid("This console link's client is no longer registered");
    const token = await options.tokens.issueConsoleToken({ sessionId, clientId: client.clientId, registration: client.registration });
    res.json({ token, token_type: 'Bearer', expires_in: options.tokens.tokenTtlSeconds, session: consoleView(record.resource), version: record.version });
  });

  router.post('/console/api/sessions', named('/console/api/sessions'), auth.principal, json, async (req, res) => {
    const principal = consolePrincipalOf(res);
    if (principal.mode !== 'signed-in') throw new ConsoleLinkScope("A console opened from a console_url acts on its own session only; start another from the desktop");
    const key = req.get('idempotency-key');
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) throw new ValidationFailed('Idempotency-Key must be 1 to 255 printable ASCII characters');
    const idempotencyKey = key === undefined ? undefined : `${principal.user.name}:${key}`;
    const { type } = validated<{ type: SessionType }>(consoleTypeSchema, req.body);
    if (type === 'digital') {
      const body = validated<CreateDigitalSessionBody>(createDigitalSessionSchema, req.body);
      const gateways = options.digital.connectors();
      if (body.connector === undefined || !gateways.includes(body.connector)) {
        throw new ValidationFailed(`Invalid request: connector must be a payment gateway with configured credentials (${gateways.join(', ') || 'none is configured'})`);
      }
      // The console never shows the link (see above): it can only text it, to the customer's mobile.
      if (!body.send_sms) throw new ValidationFailed('Invalid request: send_sms must be true: the console texts the link to the customer and never shows it');
      if (!body.customer?.phone) throw new ValidationFailed("Invalid request: customer.phone is required: the link is texted to the customer's mobile");
      const { session } = await options.digital.create(principal.clientId, body, idempotencyKey, principal.actor);
      answer(res, await sessions.get(principal.clientId, session.id), 201);
      return;
    }
    const body = validated<CreateSessionBody>(createSessionSchema, req.body);
    if (body.connector === undefined || !options.connectors.includes(body.connector)) {
      throw new ValidationFailed(`Invalid request: connector must be one of the console's configurations (${options.connectors.join(', ')})`);
    }
    const created = await sessions.create(principal.clientId, body, idempotencyKey, principal.actor);
    answer(res, await sessions.get(principal.clientId, created.id), 201);
  });

  router.get('/console/api/sessions/:id', named('/console/api/sessions/{id}'), auth.principal, async (req, res) => {
    answer(res, await sessionOf(consolePrincipalOf(res), id(req)));
  });

  const action = (name: 'capture' | 'complete' | 'cancel'): RequestHandler[] => [
    named(`/console/api/sessions/{id}/${name}`),
    auth.principal,
    json,
    async (req, res) => {
      const principal = consolePrincipalOf(res);
      const record = await sessionOf(principal, id(req));
      const sessionId = record.resource.id;
      if (name === 'capture') {
        const { field } = validated<{ field: FieldKey }>(captureSchema, req.body);
        await sessions.capture(principal.actor, principal.clientId, sessionId, field);
      } else if (name === 'complete') {
        await sessions.complete(principal.actor, principal.clientId, sessionId);
      } else {
        await sessions.cancel(principal.actor, principal.clientId, sessionId);
      }
      answer(res, await sessions.get(principal.clientId, sessionId));
    },
  ];
  router.post('/console/api/sessions/:id/capture', ...action('capture'));
  router.post('/console/api/sessions/:id/complete', ...action('complete'));
  router.post('/console/api/sessions/:id/cancel', ...action('cancel'));

  // A digital session's link, texted again (a new link; the earlier ones keep working): the answer is the session, never the link.
  router.post('/console/api/sessions/:id/send-link', named('/console/api/sessions/{id}/send-link'), auth.principal, json, async (req, res) => {
    const principal = consolePrincipalOf(res);
    const record = await sessionOf(principal, id(req));
    await options.digital.sendLink(principal.actor, principal.clientId, record.resource.id);
    answer(res, await sessions.get(principal.clientId, record.resource.id));
  });

  router.post('/console/api/sessions/:id/stream-ticket', named('/console/api/sessions/{id}/stream-ticket'), auth.principal, async (req, res) => {
    const record = await sessionOf(consolePrincipalOf(res), id(req));
    res.status(201).json(await access.streamTicket(record.resource.id));
  });

  // EventSource sends no Authorization header: a single-use ticket opens the stream; the page
  // gets a new one for each reconnection and says where it was (last_event_id).
  const streams = new Map<string, number>();
  router.get('/console/api/sessions/:id/events', named('/console/api/sessions/{id}/events'), async (req, res) => {
    const query = new URL(req.originalUrl, 'http://local').searchParams;
    const ticket = query.get('ticket') ?? '';
    const subject = { address: contextOf(res).clientAddress, account: 'console-stream' };
    throttle.check(subject);
    try {
      await access.useStreamTicket(ticket, id(req));
    } catch (error) {
      if (error instanceof StreamTicketInvalid) throttle.fail(subject);
      throw error;
    }
    markAuthenticated(contextOf(res));
    const record = await sessions.byId(id(req));
    const owner = record.clientId;
    const open = streams.get(owner) ?? 0;
    if (open >= options.maxStreamsPerClient) throw new TooManyStreams('As many console event streams are open as this client may hold');
    streams.set(owner, open + 1);
    res.once('close', () => {
      const left = (streams.get(owner) ?? 1) - 1;
      if (left > 0) streams.set(owner, left);
      else streams.delete(owner);
    });
    const stream = await createSession(req, res, { keepAlive: HEARTBEAT_MS, headers: { 'X-Accel-Buffering': 'no', 'Cache-Control': 'no-store' } });
    const given = Number(query.get('last_event_id') ?? stream.lastId);
    const lastSeen = Number.isSafeInteger(given) && given > 0 ? given : 0;
    const send = (session: SessionRecord['resource'], version: number) => {
      if (stream.isConnected) stream.push(consoleView(session), 'session', String(version));
    };
    const unwatch = options.events.watch(record.resource.id, send);
    res.once('close', unwatch);
    const now = await sessions.byId(record.resource.id);
    if (now.version > lastSeen) send(now.resource, now.version);
  });

  const answerError: ErrorRequestHandler = (error: unknown, _req, res, next) => {
    if (!contextOf(res).apiErrors) return next(error);
    answerApiFailure(res, error, options.logger);
  };
  router.use(answerError);
  return router;
}

/** What kind of session the console starts: agent assist, or digital (pay by link). */
const consoleTypeSchema = {
  ...sessionTypeSchema,
  properties: { type: { enum: ['agent', 'digital'], description: 'must be "agent" or "digital"' } },
} as const;

const linkCodeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['code'],
  properties: { code: { type: 'string', maxLength: 64, description: "must be the code in the console_url's fragment" } },
} as const;

/** `default-src 'self'` and nothing inline; framing only by CONSOLE_FRAME_ANCESTORS. */
export function contentSecurityPolicy(frameAncestors: string[]): string {
  const ancestors = frameAncestors.length === 0 ? "'none'" : frameAncestors.join(' ');
  return `default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; frame-ancestors ${ancestors}`;
}

/** A call SID the desktop gave in the URL (?call_sid=), kept through the sign-in. */
function callSidOf(url: string): string | undefined {
  const given = new URL(url, 'http://local').searchParams.get('call_sid') ?? '';
  return CALL_SID.test(given) ? given : undefined;
}

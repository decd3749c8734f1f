import express, { Router, type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import { createSession } from 'better-sse';
import { SessionNotFound, TooManyStreams, ValidationFailed } from '../errors';
import type { Logger } from '../logging/logger';
import type { AgentSessions } from '../sessions/agent-sessions';
import type { DigitalSessions } from '../sessions/digital-sessions';
import type { IvrSessions } from '../sessions/ivr-sessions';
import type { Scope } from '../sessions/api-clients';
import type { ConsoleLink } from '../sessions/console-access';
import type { SessionEvents } from '../sessions/session-events';
import {
  captureSchema,
  createDigitalSessionSchema,
  createIvrSessionSchema,
  createSessionSchema,
  listQuerySchema,
  sessionTypeSchema,
  validated,
  validatedQuery,
  type CreateDigitalSessionBody,
  type CreateIvrSessionBody,
  type CreateSessionBody,
} from '../sessions/session-schemas';
import type { FieldKey, SessionState, SessionType } from '../sessions/session';
import { answerApiFailure } from './api-errors';
import { contextOf } from './request-context';

export interface SessionRoutesOptions {
  sessions: AgentSessions;
  ivr: IvrSessions;
  digital: DigitalSessions;
  events: SessionEvents;
  /** Bearer-token authentication with a scope; the client's id is then known. */
  requireScope(scope: Scope): RequestHandler;
  clientIdOf(res: Response): string;
  maxStreamsPerClient: number;
  logger: Logger;
  /** A new console_url for an agent session (decisions item 6: only in the answers that issue it). */
  consoleLink?: (sessionId: string) => Promise<ConsoleLink>;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** A comment every 15 s keeps an idle stream (and every proxy on its way) open. */
const HEARTBEAT_MS = 15_000;

/**
 * The session API (/v1/sessions): thin routes that parse, authenticate, validate and call the
 * session use cases (src/sessions/). Errors are `{"error": {"code", "message"}}` with their status.
 */
export function sessionRoutes(options: SessionRoutesOptions): Router {
  const { sessions, requireScope, clientIdOf } = options;
  const router = Router();
  const json = express.json({ limit: 16 * 1024, type: () => true });
  const named =
    (route: string): RequestHandler =>
    (_req, res, next) => {
      contextOf(res).route = route;
      contextOf(res).apiErrors = true;
      next();
    };
  const actor = (res: Response) => `client:${clientIdOf(res)}` as const;
  const id = (req: { params: Record<string, unknown> }) => String(req.params.id);

  router.post('/v1/sessions', named('/v1/sessions'), requireScope('sessions:write'), json, async (req, res) => {
    const key = req.get('idempotency-key');
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) throw new ValidationFailed('Idempotency-Key must be 1 to 255 printable ASCII characters');
    const { type } = validated<{ type: SessionType }>(sessionTypeSchema, req.body);
    if (type === 'ivr') {
      // The twiml_url is in this answer only (a bearer link: never in reads, lists, events or webhooks).
      const { session, twimlUrl } = await options.ivr.create(clientIdOf(res), validated<CreateIvrSessionBody>(createIvrSessionSchema, req.body), key);
      res.status(201).json({ ...session, ...(twimlUrl ? { twiml_url: twimlUrl } : {}) });
      return;
    }
    if (type === 'digital') {
      // The link_url is in this answer only (a bearer link: never in reads, lists, events or webhooks).
      const { session, linkUrl } = await options.digital.create(clientIdOf(res), validated<CreateDigitalSessionBody>(createDigitalSessionSchema, req.body), key);
      res.status(201).json({ ...session, ...(linkUrl ? { link_url: linkUrl } : {}) });
      return;
    }
    const body = validated<CreateSessionBody>(createSessionSchema, req.body);
    const session = await sessions.create(clientIdOf(res), body, key);
    // The agent console's way in, shown in this answer only (a replay of it gets a new one: the first may be lost).
    const link = options.consoleLink && session.type === 'agent' ? await options.consoleLink(session.id) : undefined;
    res.status(201).json(link ? { ...session, console_url: link.console_url } : session);
  });

  router.post('/v1/sessions/:id/console-link', named('/v1/sessions/{id}/console-link'), requireScope('sessions:write'), async (req, res) => {
    const record = await sessions.get(clientIdOf(res), id(req));
    if (!options.consoleLink || record.resource.type !== 'agent') throw new SessionNotFound('No session with that id has a console');
    res.status(201).json(await options.consoleLink(record.resource.id));
  });

  router.post('/v1/sessions/:id/twiml-link', named('/v1/sessions/{id}/twiml-link'), requireScope('sessions:write'), async (req, res) => {
    const { twimlUrl, expiresAt } = await options.ivr.reissueLink(clientIdOf(res), id(req));
    res.status(201).json({ twiml_url: twimlUrl, expires_at: expiresAt });
  });

  // A digital session's link, texted again (a new link_url; at most 5 messages a session).
  router.post('/v1/sessions/:id/send-link', named('/v1/sessions/{id}/send-link'), requireScope('sessions:write'), async (req, res) => {
    const { session, linkUrl } = await options.digital.sendLink(actor(res), clientIdOf(res), id(req));
    res.status(201).json({ link_url: linkUrl, sms: session.sms, expires_at: session.expires_at });
  });

  router.get('/v1/sessions', named('/v1/sessions'), requireScope('sessions:read'), async (req, res) => {
    const query = validatedQuery<{ reference?: string; state?: SessionState; since?: string; limit: number }>(listQuerySchema, req.originalUrl);
    const since = query.since === undefined ? undefined : Date.parse(query.since);
    if (since !== undefined && Number.isNaN(since)) throw new ValidationFailed('since must be an ISO date-time');
    res.json({ sessions: await sessions.list({ clientId: clientIdOf(res), reference: query.reference, state: query.state, since, limit: query.limit }) });
  });

  router.get('/v1/sessions/:id', named('/v1/sessions/{id}'), requireScope('sessions:read'), async (req, res) => {
    res.json((await sessions.get(clientIdOf(res), id(req))).resource);
  });

  router.get('/v1/sessions/:id/history', named('/v1/sessions/{id}/history'), requireScope('sessions:read'), async (req, res) => {
    res.json({ history: await sessions.history(clientIdOf(res), id(req)) });
  });

  router.post('/v1/sessions/:id/capture', named('/v1/sessions/{id}/capture'), requireScope('sessions:write'), json, async (req, res) => {
    const { field } = validated<{ field: FieldKey }>(captureSchema, req.body);
    res.json(await sessions.capture(actor(res), clientIdOf(res), id(req), field));
  });

  router.post('/v1/sessions/:id/complete', named('/v1/sessions/{id}/complete'), requireScope('sessions:write'), async (req, res) => {
    res.json(await sessions.complete(actor(res), clientIdOf(res), id(req)));
  });

  router.post('/v1/sessions/:id/cancel', named('/v1/sessions/{id}/cancel'), requireScope('sessions:write'), async (req, res) => {
    res.json(await sessions.cancel(actor(res), clientIdOf(res), id(req)));
  });

  const streams = new Map<string, number>();
  router.get('/v1/sessions/:id/events', named('/v1/sessions/{id}/events'), requireScope('sessions:read'), async (req, res) => {
    const clientId = clientIdOf(res);
    const record = await sessions.get(clientId, id(req));
    const open = streams.get(clientId) ?? 0;
    if (open >= options.maxStreamsPerClient) throw new TooManyStreams('This client has as many event streams open as it may');
    streams.set(clientId, open + 1);
    res.once('close', () => {
      const left = (streams.get(clientId) ?? 1) - 1;
      if (left > 0) streams.set(clientId, left);
      else streams.delete(clientId);
    });
    // Unbuffered all the way: no proxy may hold an event back.
    const stream = await createSession(req, res, { keepAlive: HEARTBEAT_MS, headers: { 'X-Accel-Buffering': 'no', 'Cache-Control': 'no-store' } });
    const lastSeen = Number(stream.lastId) || 0;
    const send = (session: unknown, version: number) => {
      if (stream.isConnected) stream.push(session, 'session', String(version));
    };
    const unwatch = options.events.watch(record.resource.id, send);
    res.once('close', unwatch);
    // On connect the whole session, unless the client already has this version (Last-Event-ID).
    const now = await sessions.get(clientId, record.resource.id);
    if (now.version > lastSeen) send(now.resource, now.version);
  });

  // Only errors of the routes above: the session API's shape, not the connector's.
  const answer: ErrorRequestHandler = (error: unknown, _req, res, next) => {
    if (!contextOf(res).apiErrors) return next(error);
    answerApiFailure(res, error, options.logger);
  };
  router.use(answer);
  return router;
}

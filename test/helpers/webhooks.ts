import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import winston from 'winston';
import { NotFound } from '../../src/errors';
import { answerErrors } from '../../src/http/answer-error';
import { AuthThrottle } from '../../src/http/auth-throttle';
import { requestLog } from '../../src/http/request-log';
import { webhookAdminRoutes } from '../../src/http/webhook-admin-routes';
import { createMetrics } from '../../src/observability/metrics';
import { createLogger, type Logger } from '../../src/logging/logger';
import { secret } from '../../src/redaction/secret';
import type { ApiClient, ApiClients } from '../../src/sessions/api-clients';
import { outboxInsert, type NewWebhookEvent, type WebhookEventType, type WebhookOutbox } from '../../src/store/webhook-outbox';
import type { Sql } from '../../src/store/sql';

/** What a webhook receiver got: the raw body, as signed, and the headers. */
export interface ReceivedWebhook {
  body: string;
  headers: http.IncomingHttpHeaders;
  method: string;
  path: string;
}

export interface ReceiverAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Never answer (the connection stays open until the receiver stops). */
  hang?: boolean;
}

/** A merchant's webhook endpoint on loopback: keeps every request and answers as told (200 by default). */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  answer: (request: ReceivedWebhook, index: number) => ReceiverAnswer = () => ({ status: 200 });
  private server?: http.Server;
  port = 0;

  /** Listens on `port` (0: a free one); again on the same port after stop(). */
  async start(port = this.port): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request = { body: Buffer.concat(chunks).toString('utf8'), headers: req.headers, method: req.method ?? '', path: req.url ?? '' };
        this.received.push(request);
        const answer = this.answer(request, this.received.length - 1);
        if (answer.hang) return;
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** The ids of the events received, in arrival order. */
  ids(): string[] {
    return this.received.map((request) => (JSON.parse(request.body) as { id: string }).id);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The API client registry, in memory: tests change a client's URL or remove it at will. */
export class MemoryApiClients implements ApiClients {
  private readonly clients = new Map<string, ApiClient>();

  set(clientId: string, webhookUrl: string | undefined, webhookSecret = WEBHOOK_SECRET, progressEvents = true): void {
    this.clients.set(clientId, {
      clientId,
      scopes: ['sessions:write'],
      webhookUrl,
      webhookSecret: secret.hidden(webhookSecret),
      progressEvents,
      createdAt: '2026-11-30T00:00:00.000Z',
      registration: `test-${clientId}`,
    });
  }

  remove(clientId: string): void {
    this.clients.delete(clientId);
  }

  get(clientId: string): ApiClient | undefined {
    return this.clients.get(clientId);
  }

  list(): ApiClient[] {
    return [...this.clients.values()];
  }
}

export const WEBHOOK_SECRET = 'whsec_test_0123456789abcdef0123456789abcdef';

/** A session resource as the lead's session code gives it (its shape does not matter here). */
export function sessionResource(sessionId: string, state: string): Record<string, unknown> {
  return { id: sessionId, type: 'agent', state, reference: 'order-1', amount: '12.34', currency: 'USD', result: null };
}

/** Enqueues events as a session change does (one batch), returning their ids. */
export async function enqueue(sql: Sql, events: Array<Partial<NewWebhookEvent> & { sessionId: string; sequence: number }>, now = Date.now()): Promise<string[]> {
  const statements = events.map((event) => {
    const type: WebhookEventType = event.type ?? 'session.succeeded';
    return outboxInsert({ clientId: 'crm', type, data: sessionResource(event.sessionId, type.slice('session.'.length)), createdAt: now, ...event });
  });
  await sql.batch(statements);
  return statements.map((statement) => statement.params![0] as string);
}

export { eventually } from './eventually';

/** A logger whose lines stay in memory. */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger('silly', [new winston.transports.Stream({ stream })]), lines };
}

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public time = Date.UTC(2026, 10, 1, 12, 0, 0)) {}
  readonly now = () => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

/** A small real server with the webhook admin routes, as the service mounts them (request context, error answers). */
export async function startWebhookAdminServer(outbox: WebhookOutbox, adminToken: string): Promise<{ url: string; close(): Promise<void> }> {
  const { logger } = memoryLogger();
  const app = express();
  app.set('query parser', false);
  app.use(requestLog(logger, createMetrics()));
  app.use(webhookAdminRoutes(outbox, adminToken, new AuthThrottle()));
  app.use(() => {
    throw new NotFound('No such path; POST / or /connectors/{name}');
  });
  app.use(answerErrors(logger));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

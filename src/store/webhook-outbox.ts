import { randomBytes } from 'node:crypto';
import { createAjv, describeAjvError } from '../ajv';
import { InvalidQuery } from '../errors';
import type { Sql, Statement } from './sql';

/**
 * The webhook outbox: events owed to API clients, written in the same transaction as the session
 * change that causes them (so an event exists exactly when its change does), then delivered by
 * the webhook worker (src/sessions/webhook-delivery.ts). A row holds the exact body that is
 * POSTed; never a signature or a secret, which are computed at each attempt.
 */

export const WEBHOOK_EVENT_TYPES = [
  'session.capturing',
  'session.processing',
  'session.succeeded',
  'session.failed',
  'session.cancelled',
  'session.expired',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const WEBHOOK_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];

/** Notified after events are enqueued or retried: wakes the worker of whichever replica leads. */
export const WEBHOOKS_CHANNEL = 'paybridge_webhooks';

/** An event to enqueue with a session change. */
export interface NewWebhookEvent {
  clientId: string;
  sessionId: string;
  /** Orders the session's events: the session's version after the change (increasing, unique per session). */
  sequence: number;
  type: WebhookEventType;
  /** The session resource as the API shows it (never card data, never a bearer link). */
  data: object;
  /** Epoch ms of the change. */
  createdAt: number;
}

/** An event as stored, without its body. */
export interface WebhookEvent {
  id: string;
  clientId: string;
  sessionId: string;
  sequence: number;
  type: WebhookEventType;
  status: WebhookStatus;
  /** Attempts since `attemptsSince`. */
  attempts: number;
  /** Epoch ms the retry window counts from: the event's creation, or its last manual retry. */
  attemptsSince: number;
  nextAttemptAt: number;
  /** Why the last attempt failed: an HTTP status or an error code, never what the receiver answered. */
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

export interface StoredWebhookEvent extends WebhookEvent {
  /** The JSON that is POSTed, byte for byte. */
  body: string;
}

export interface WebhookFilter {
  status?: WebhookStatus;
  sessionId?: string;
  clientId?: string;
  limit?: number;
}

export const DEFAULT_WEBHOOK_LIST_LIMIT = 100;

/**
 * The statement that enqueues one event: put it in the same `sql.batch` as the session update that
 * causes it, then call `announceWebhooks(sql)` once the batch has committed.
 */
export function outboxInsert(event: NewWebhookEvent): Statement {
  const id = `evt_${randomBytes(16).toString('hex')}`;
  const body = JSON.stringify({ id, type: event.type, created_at: new Date(event.createdAt).toISOString(), data: event.data });
  return {
    text: `INSERT INTO webhook_outbox (id, client_id, session_id, sequence, type, body, status, attempts, attempts_since, next_attempt_at, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, $7)`,
    params: [id, event.clientId, event.sessionId, event.sequence, event.type, body, event.createdAt],
  };
}

/** Wakes the webhook worker now rather than at its next poll; call it after the batch that enqueued events commits. */
export function announceWebhooks(sql: Sql): Promise<void> {
  return sql.notify(WEBHOOKS_CHANNEL, '');
}

const COLUMNS = 'id, client_id, session_id, sequence, type, status, attempts, attempts_since, next_attempt_at, last_error, created_at, delivered_at';

interface OutboxRow {
  id: string;
  client_id: string;
  session_id: string;
  sequence: number | string;
  type: WebhookEventType;
  status: WebhookStatus;
  attempts: number | string;
  attempts_since: number | string;
  next_attempt_at: number | string;
  last_error: string | null;
  created_at: number | string;
  delivered_at: number | string | null;
  body?: string;
}

export class WebhookOutbox {
  constructor(private readonly sql: Sql) {}

  /**
   * Pending events due by `now`, at most `limit`, each the first pending event of its session: a
   * session's later events wait until the earlier one is delivered or given up.
   */
  async due(now: number, limit: number): Promise<StoredWebhookEvent[]> {
    const rows = await this.sql.all<OutboxRow>({
      text: `SELECT ${COLUMNS}, body FROM webhook_outbox o
              WHERE o.status = 'pending' AND o.next_attempt_at <= $1
                AND NOT EXISTS (SELECT 1 FROM webhook_outbox earlier
                                 WHERE earlier.session_id = o.session_id AND earlier.status = 'pending' AND earlier.sequence < o.sequence)
              ORDER BY o.next_attempt_at, o.created_at
              LIMIT $2`,
      params: [now, limit],
    });
    return rows.map(storedEventFromRow);
  }

  async markDelivered(id: string, now: number): Promise<void> {
    await this.sql.run({
      text: `UPDATE webhook_outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = $2, last_error = NULL WHERE id = $1 AND status = 'pending'`,
      params: [id, now],
    });
  }

  /** A failed attempt: tried again at `nextAttemptAt`. */
  async reschedule(id: string, error: string, nextAttemptAt: number): Promise<void> {
    await this.sql.run({
      text: `UPDATE webhook_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1 AND status = 'pending'`,
      params: [id, error, nextAttemptAt],
    });
  }

  /** No more attempts; `attempted` when this ends an attempt (not when there was nowhere to send it). */
  async giveUp(id: string, error: string, attempted: boolean): Promise<void> {
    await this.sql.run({
      text: `UPDATE webhook_outbox SET status = 'failed', attempts = attempts + $3, last_error = $2 WHERE id = $1 AND status = 'pending'`,
      params: [id, error, attempted ? 1 : 0],
    });
  }

  /** Newest first. */
  async list(filter: WebhookFilter = {}): Promise<WebhookEvent[]> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    const where = (column: string, value: unknown) => {
      if (value === undefined) return;
      params.push(value);
      conditions.push(`${column} = $${params.length}`);
    };
    where('status', filter.status);
    where('session_id', filter.sessionId);
    where('client_id', filter.clientId);
    params.push(filter.limit ?? DEFAULT_WEBHOOK_LIST_LIMIT);
    const rows = await this.sql.all<OutboxRow>({
      text: `SELECT ${COLUMNS} FROM webhook_outbox ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}
              ORDER BY created_at DESC, session_id, sequence DESC LIMIT $${params.length}`,
      params,
    });
    return rows.map(eventFromRow);
  }

  async get(id: string): Promise<StoredWebhookEvent | undefined> {
    const rows = await this.sql.all<OutboxRow>({ text: `SELECT ${COLUMNS}, body FROM webhook_outbox WHERE id = $1`, params: [id] });
    return rows[0] ? storedEventFromRow(rows[0]) : undefined;
  }

  /**
   * An operator's retry: a failed (or pending) event becomes pending, due now, with a fresh retry
   * window, and the worker is woken. A delivered one is left alone.
   */
  async retry(id: string, now: number): Promise<{ outcome: 'retried'; event: WebhookEvent } | { outcome: 'delivered' } | { outcome: 'unknown' }> {
    const changed = await this.sql.run({
      text: `UPDATE webhook_outbox SET status = 'pending', attempts = 0, attempts_since = $2, next_attempt_at = $2 WHERE id = $1 AND status <> 'delivered'`,
      params: [id, now],
    });
    const event = await this.get(id);
    if (!event) return { outcome: 'unknown' };
    if (changed === 0) return { outcome: 'delivered' };
    await announceWebhooks(this.sql);
    const { body: _body, ...summary } = event;
    return { outcome: 'retried', event: summary };
  }

  /** Events waiting to be delivered (the backlog). */
  async pendingCount(): Promise<number> {
    const rows = await this.sql.all<{ pending: number | string }>({ text: `SELECT COUNT(*) AS pending FROM webhook_outbox WHERE status = 'pending'` });
    return Number(rows[0]?.pending ?? 0);
  }

  /** Deletes events delivered before `before` (RETENTION_DAYS); failed ones stay for an operator to retry. */
  prune(before: number): Promise<number> {
    return this.sql.run({ text: `DELETE FROM webhook_outbox WHERE status = 'delivered' AND delivered_at < $1`, params: [before] });
  }
}

// PostgreSQL returns BIGINT columns as strings.
function eventFromRow(row: OutboxRow): WebhookEvent {
  return {
    id: row.id,
    clientId: row.client_id,
    sessionId: row.session_id,
    sequence: Number(row.sequence),
    type: row.type,
    status: row.status,
    attempts: Number(row.attempts),
    attemptsSince: Number(row.attempts_since),
    nextAttemptAt: Number(row.next_attempt_at),
    lastError: row.last_error,
    createdAt: Number(row.created_at),
    deliveredAt: row.delivered_at == null ? null : Number(row.delivered_at),
  };
}

function storedEventFromRow(row: OutboxRow): StoredWebhookEvent {
  return { ...eventFromRow(row), body: row.body ?? '' };
}

/** Filters for listing events, shared by GET /admin/webhooks and `npm run webhooks -- list`. */
export const webhookQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { enum: [...WEBHOOK_STATUSES] },
    session_id: { type: 'string', minLength: 1, maxLength: 255 },
    client_id: { type: 'string', minLength: 1, maxLength: 255 },
    limit: { type: 'integer', minimum: 1, maximum: 1000 },
  },
} as const;

const validateQuery = createAjv({ coerceTypes: true, allErrors: false }).compile(webhookQuerySchema);

export function parseWebhookQuery(params: Record<string, string | number | undefined>): WebhookFilter {
  const given = Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
  if (!validateQuery(given)) throw new InvalidQuery(`Invalid query: ${(validateQuery.errors ?? []).map(describeAjvError).join('; ')}`);
  const query = given as { status?: WebhookStatus; session_id?: string; client_id?: string; limit?: number };
  return { status: query.status, sessionId: query.session_id, clientId: query.client_id, limit: query.limit };
}

/** An event as the admin API and the CLI show it: when and how it went, never a signature or a secret. */
export function presentWebhookEvent(event: WebhookEvent) {
  const time = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: event.id,
    type: event.type,
    session_id: event.sessionId,
    client_id: event.clientId,
    status: event.status,
    attempts: event.attempts,
    next_attempt_at: event.status === 'pending' ? time(event.nextAttemptAt) : null,
    last_error: event.lastError,
    created_at: time(event.createdAt),
    delivered_at: time(event.deliveredAt),
  };
}

export type PresentedWebhookEvent = ReturnType<typeof presentWebhookEvent>;

import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import axios, { AxiosError, type AxiosInstance } from 'axios';
import { describeUnexpected, type Logger } from '../logging/logger';
import type { Metrics } from '../observability/metrics';
import type { Sql } from '../store/sql';
import { WEBHOOKS_CHANNEL, WebhookOutbox, type StoredWebhookEvent, type WebhookEventType } from '../store/webhook-outbox';
import type { ApiClient, ApiClients } from './api-clients';

/**
 * The webhook worker: POSTs the outbox's events to each API client's webhook URL, signed, in order
 * per session, retrying with backoff for 12 hours. It works only on the replica that holds the
 * `webhooks` lock (with SQLite, the one process), so an event goes out once, not once per replica;
 * an event whose outcome was not recorded (a crash mid-delivery) is still pending and goes out
 * again: delivery is at least once, and receivers dedupe by the event's id.
 */

/** After the 1st, 2nd... failed attempt; the last delay repeats. */
export const DEFAULT_RETRY_DELAYS_MS = [10_000, 30_000, 60_000, 5 * 60_000, 15 * 60_000, 30 * 60_000, 60 * 60_000];
export const GIVE_UP_AFTER_MS = 12 * 60 * 60 * 1000;
const SIGNATURE_HEADER = 'Paybridge-Signature';
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

export interface WebhookDeliveryOptions {
  sql: Sql;
  clients: ApiClients;
  logger: Logger;
  metrics: Pick<Metrics, 'webhookBacklog' | 'webhookFailed'>;
  /** Epoch ms; tests move it. */
  now?: () => number;
  /** How often the worker looks for due events and checks whether it leads, besides notifications. */
  pollIntervalMs?: number;
  retryDelaysMs?: readonly number[];
  /** An event still failing this long after its creation (or its last manual retry) is given up. */
  giveUpAfterMs?: number;
  /** Deadline of one attempt, connection included. */
  timeoutMs?: number;
  /** Attempts in flight at once (each to a different session). */
  maxConcurrent?: number;
  /** Delivered events older than this are deleted (hourly, by the leading replica); none when unset. */
  retentionDays?: number;
  /** The lock that elects the replica that delivers (tests sharing one PostgreSQL database use their own). */
  lockName?: string;
}

export class WebhookDelivery {
  private readonly outbox: WebhookOutbox;
  private readonly now: () => number;
  private readonly pollIntervalMs: number;
  private readonly retryDelaysMs: readonly number[];
  private readonly giveUpAfterMs: number;
  private readonly timeoutMs: number;
  private readonly maxConcurrent: number;
  private readonly lockName: string;
  private readonly http: AxiosInstance;
  private readonly agents = { http: new http.Agent({ keepAlive: false }), https: new https.Agent({ keepAlive: false, minVersion: 'TLSv1.2' }) };
  private timer?: NodeJS.Timeout;
  private stopped = true;
  /** The pass running now; passes never overlap. */
  private passing?: Promise<void>;
  private passAgain = false;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Ended attempts, forgotten by the next pass only: a pass that started earlier may still read them as pending. */
  private readonly ended: string[] = [];
  private lastPruneAt = -Infinity;

  constructor(private readonly options: WebhookDeliveryOptions) {
    this.outbox = new WebhookOutbox(options.sql);
    this.now = options.now ?? Date.now;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    if (this.retryDelaysMs.length === 0) throw new Error('retryDelaysMs needs at least one delay');
    this.giveUpAfterMs = options.giveUpAfterMs ?? GIVE_UP_AFTER_MS;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxConcurrent = options.maxConcurrent ?? 16;
    this.lockName = options.lockName ?? 'webhooks';
    this.http = axios.create({
      httpAgent: this.agents.http,
      httpsAgent: this.agents.https,
      // Only the configured URL ever receives an event: a redirect is a failed attempt, never followed.
      maxRedirects: 0,
      proxy: false,
      // The answer's status is all that counts: its body is never read (see post()).
      responseType: 'stream',
      validateStatus: () => true,
      // The stored body is sent byte for byte: it is what the signature covers.
      transformRequest: [(data: unknown) => data],
    });
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.options.sql.listen(WEBHOOKS_CHANNEL, () => this.wake());
    this.timer = setInterval(() => this.wake(), this.pollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Stops looking for events and waits for the attempts in flight (each ends within its deadline). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.passing;
    await Promise.all(this.inFlight.values());
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** Runs a pass now, or right after the one running. */
  wake(): void {
    if (this.stopped) return;
    if (this.passing) {
      this.passAgain = true;
      return;
    }
    this.passing = this.pass()
      .catch((error: unknown) => {
        this.options.logger.error('webhook worker error', describeUnexpected(error));
      })
      .finally(() => {
        this.passing = undefined;
        if (this.passAgain) {
          this.passAgain = false;
          this.wake();
        }
      });
  }

  private async pass(): Promise<void> {
    for (const id of this.ended.splice(0)) this.inFlight.delete(id);
    this.options.metrics.webhookBacklog(await this.outbox.pendingCount());
    if (!(await this.options.sql.lead(this.lockName))) return;
    await this.pruneHourly();
    const room = this.maxConcurrent - this.inFlight.size;
    if (room <= 0) return;
    // Events in flight are still pending, so they come back here: asked for, then skipped.
    const due = await this.outbox.due(this.now(), room + this.inFlight.size);
    for (const event of due.filter((candidate) => !this.inFlight.has(candidate.id)).slice(0, room)) {
      const attempt = this.attempt(event)
        .catch((error: unknown) => {
          // The outcome is not recorded: the event is still pending and goes out again.
          this.options.logger.error('webhook outcome not recorded', { event_id: event.id, ...describeUnexpected(error) });
        })
        .finally(() => {
          this.ended.push(event.id);
          this.wake();
        });
      this.inFlight.set(event.id, attempt);
    }
  }

  private async attempt(event: StoredWebhookEvent): Promise<void> {
    const about = { event_id: event.id, type: event.type, session_id: event.sessionId, client_id: event.clientId };
    const client = this.options.clients.get(event.clientId);
    const nowhere = whyUndeliverable(client);
    if (nowhere !== undefined) {
      await this.outbox.giveUp(event.id, nowhere, false);
      this.options.metrics.webhookFailed('given_up');
      this.options.logger.warn('webhook given up', { ...about, reason: nowhere });
      return;
    }
    const failure = await this.post(client!.webhookUrl!, event.body, client!.webhookSecret!.reveal());
    const now = this.now();
    const attempts = event.attempts + 1;
    if (failure === undefined) {
      await this.outbox.markDelivered(event.id, now);
      this.options.logger.info('webhook delivered', { ...about, attempts });
      return;
    }
    const giveUpAt = event.attemptsSince + this.giveUpAfterMs;
    if (now >= giveUpAt) {
      await this.outbox.giveUp(event.id, failure, true);
      this.options.metrics.webhookFailed('given_up');
      this.options.logger.warn('webhook given up', { ...about, attempts, error: failure });
      return;
    }
    // The last attempt falls on the deadline itself, not one delay past it.
    const next = Math.min(now + this.retryDelaysMs[Math.min(attempts, this.retryDelaysMs.length) - 1]!, giveUpAt);
    await this.outbox.reschedule(event.id, failure, next);
    this.options.metrics.webhookFailed('retry');
    this.options.logger.warn('webhook attempt failed', { ...about, attempts, error: failure, next_attempt_at: new Date(next).toISOString() });
  }

  /** One signed POST; undefined when the receiver answered 2xx, else a short description of what failed. */
  private async post(url: string, body: string, secret: string): Promise<string | undefined> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.timeoutMs);
    try {
      const response = await this.http.post<Readable>(url, body, {
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'paybridge-webhooks',
          [SIGNATURE_HEADER]: signWebhook(body, secret, Math.floor(this.now() / 1000)),
        },
        signal: deadline.signal,
      });
      // Never read: what a receiver answers is not ours to keep, and could be large.
      response.data.destroy();
      return response.status >= 200 && response.status < 300 ? undefined : `HTTP ${response.status}`;
    } catch (error) {
      if (deadline.signal.aborted) return `no answer within ${this.timeoutMs / 1000} s`;
      return transportErrorCode(error);
    } finally {
      clearTimeout(timer);
    }
  }

  private async pruneHourly(): Promise<void> {
    const { retentionDays } = this.options;
    const now = this.now();
    if (retentionDays === undefined || now - this.lastPruneAt < HOUR_MS) return;
    this.lastPruneAt = now;
    await this.outbox.prune(now - retentionDays * DAY_MS);
  }
}

/** Why an event cannot be sent to its client at all, if so: it goes only to the URL configured now. */
function whyUndeliverable(client: ApiClient | undefined): string | undefined {
  if (!client) return 'the API client no longer exists';
  if (!client.webhookUrl) return 'the API client has no webhook URL';
  if (!client.webhookSecret) return 'the API client has no webhook secret';
  if (!/^https?:\/\//i.test(client.webhookUrl)) return 'the webhook URL is not http or https';
  return undefined;
}

/** An error code only: axios's messages and config carry the URL and the signed request. */
function transportErrorCode(error: unknown): string {
  const code = error instanceof AxiosError ? (error.code ?? (error.cause as NodeJS.ErrnoException | undefined)?.code) : undefined;
  return code !== undefined && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : 'the request failed';
}

/**
 * The event a session's new state owes its client, if any: every final state; `capturing` and
 * `processing` only for clients that asked for progress events; nothing without a webhook URL.
 */
export function webhookEventFor(client: ApiClient | undefined, state: string): WebhookEventType | undefined {
  if (!client?.webhookUrl) return undefined;
  switch (state) {
    case 'succeeded':
    case 'failed':
    case 'cancelled':
    case 'expired':
      return `session.${state}`;
    case 'capturing':
    case 'processing':
      return client.progressEvents ? `session.${state}` : undefined;
    default:
      return undefined;
  }
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the Paybridge-Signature header. */
export function signWebhook(body: string, secret: string, timestampSeconds: number): string {
  return `t=${timestampSeconds},v1=${hmac(secret, `${timestampSeconds}.${body}`)}`;
}

/**
 * For receivers: true when `header` (Paybridge-Signature) signs exactly `body` (the raw request
 * body, before any JSON parsing) with `secret`, at a time within `toleranceSeconds` of `nowMs`.
 * Any of several v1 values may match (a secret being rotated).
 */
export function verifyWebhookSignature(body: string, header: string, secret: string, toleranceSeconds = 300, nowMs = Date.now()): boolean {
  const parts = header.split(',').map((part) => part.trim().split('='));
  const timestamp = parts.find(([key]) => key === 't')?.[1];
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(hmac(secret, `${timestamp}.${body}`), 'utf8');
  return parts
    .filter(([key, value]) => key === 'v1' && value !== undefined)
    .some(([, value]) => {
      const given = Buffer.from(value!, 'utf8');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

function hmac(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}

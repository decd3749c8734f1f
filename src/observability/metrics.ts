import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestContext } from '../http/request-context';

/**
 * Prometheus metrics. Labels carry only names the service chose (connector names
 * from mapping files, method, tender, outcome): never a card, account or
 * transaction value.
 */
export interface Metrics {
  registry: Registry;
  requestStarted(): void;
  requestFinished(context: RequestContext, httpStatus: number): void;
  /** Pending payments of a stopped instance that a sweep here turned into `unknown`. */
  paymentsOrphaned(count: number): void;
  /** A connection or request refused by the unauthenticated limits (`in_all` or `per_address`). */
  unauthenticatedRefused(limit: 'in_all' | 'per_address'): void;
  /** Reports sessions by state and those stuck in processing, read when the metrics are scraped. */
  watchSessions(source: SessionCounts): void;
  /** Webhook events waiting to be delivered: the outbox every replica shares, so each reports the same number. */
  webhookBacklog(pending: number): void;
  /** A webhook attempt that failed: tried again later (`retry`), or the event given up (`given_up`). */
  webhookFailed(outcome: 'retry' | 'given_up'): void;
  /** A payment taken without a connector request (the payment page): counted as the connector route counts its own. */
  paymentTaken(connector: string, payment: PaymentCounted): void;
  /** A link message: handed to Twilio (`sent`), written to the log (`logged`), refused or undeliverable (`failed`). */
  smsMessage(result: 'sent' | 'logged' | 'failed'): void;
}

/** What the payment counters need of a payment, whichever channel took it. */
export type PaymentCounted = Pick<RequestContext, 'payMethod' | 'tender' | 'outcome' | 'arrival' | 'journalStatus' | 'gatewayMs'>;

/** Where the session gauges are read from, at scrape time. */
export interface SessionCounts {
  byState(): Promise<Array<{ state: string; count: number }>>;
  /** Processing sessions whose final callback is late (settled from the journal, or stuck on an unknown outcome). */
  stuckProcessing(): Promise<number>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'paybridge_' });

  const requests = new Counter({
    name: 'paybridge_payment_requests_total',
    help: 'Payment requests answered, by connector, method, tender and outcome',
    labelNames: ['connector', 'method', 'tender', 'outcome'] as const,
    registers: [registry],
  });
  const gatewayLatency = new Histogram({
    name: 'paybridge_gateway_duration_seconds',
    help: 'Time of one gateway call, by connector',
    labelNames: ['connector'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40],
    registers: [registry],
  });
  const inFlight = new Gauge({ name: 'paybridge_requests_in_flight', help: 'Requests being handled', registers: [registry] });
  const replays = new Counter({
    name: 'paybridge_idempotent_replays_total',
    help: 'Requests answered with the first outcome of their transaction_id (joined or replayed), by connector',
    labelNames: ['connector'] as const,
    registers: [registry],
  });
  const unknown = new Counter({
    name: 'paybridge_unknown_outcomes_total',
    help: 'Payments whose outcome could not be known (to reconcile), by connector',
    labelNames: ['connector'] as const,
    registers: [registry],
  });

  const orphaned = new Counter({
    name: 'paybridge_orphaned_payments_total',
    help: 'Payments a stopped instance left in flight, turned unknown by this instance (to reconcile)',
    registers: [registry],
  });

  const refused = new Counter({
    name: 'paybridge_unauthenticated_refused_total',
    help: 'Connections and requests refused because too many had not authenticated yet, by the limit reached',
    labelNames: ['limit'] as const,
    registers: [registry],
  });

  const webhookBacklog = new Gauge({
    name: 'paybridge_webhook_backlog',
    help: 'Webhook events waiting to be delivered (pending in the outbox shared by every replica)',
    registers: [registry],
  });
  const webhookFailures = new Counter({
    name: 'paybridge_webhook_failures_total',
    help: 'Failed webhook attempts, by outcome: retry (tried again later) or given_up (12 hours of failures, or no webhook URL)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  const smsMessages = new Counter({
    name: 'paybridge_sms_messages_total',
    help: 'Link messages of digital sessions, by result: sent (handed to Twilio), logged (SMS_MODE=log), failed (refused by Twilio or not delivered)',
    labelNames: ['result'] as const,
    registers: [registry],
  });

  const countPayment = (connector: string, payment: PaymentCounted, httpStatus: number) => {
    // A duplicate is counted as a replay, not as a second approval: the outcome was the first request's.
    const duplicate = payment.arrival === 'joined' || payment.arrival === 'replayed';
    const outcome = duplicate ? 'replayed' : (payment.outcome ?? (httpStatus < 400 ? 'replayed' : 'error'));
    requests.inc({ connector, method: payment.payMethod ?? 'none', tender: payment.tender ?? 'none', outcome });
    if (payment.gatewayMs !== undefined) gatewayLatency.observe({ connector }, payment.gatewayMs / 1000);
    if (duplicate) replays.inc({ connector });
    if (payment.journalStatus === 'unknown') unknown.inc({ connector });
  };

  return {
    registry,
    paymentTaken: (connector, payment) => countPayment(connector, payment, 200),
    smsMessage: (result) => smsMessages.inc({ result }),
    watchSessions(source) {
      new Gauge({
        name: 'paybridge_sessions',
        help: 'Payment sessions, by state',
        labelNames: ['state'] as const,
        registers: [registry],
        async collect() {
          this.reset();
          for (const { state, count } of await source.byState()) this.set({ state }, count);
        },
      });
      new Gauge({
        name: 'paybridge_sessions_stuck_processing',
        help: 'Sessions processing past the time their result should have come (reconcile those with an unknown payment)',
        registers: [registry],
        async collect() {
          this.set(await source.stuckProcessing());
        },
      });
    },
    webhookBacklog: (pending) => webhookBacklog.set(pending),
    webhookFailed: (outcome) => webhookFailures.inc({ outcome }),
    paymentsOrphaned: (count) => orphaned.inc(count),
    unauthenticatedRefused: (limit) => refused.inc({ limit }),
    requestStarted: () => inFlight.inc(),
    requestFinished(context, httpStatus) {
      inFlight.dec();
      if (context.connector) countPayment(context.connector, context, httpStatus);
    },
  };
}

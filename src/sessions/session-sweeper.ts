import { idKeyFor, readWireAnswer } from '../contract/connector-answer';
import type { Logger } from '../logging/logger';
import type { JournalRecord } from '../store/journal';
import type { SessionStore } from '../store/session-store';
import type { Sql } from '../store/sql';
import type { AgentSessions } from './agent-sessions';
import type { SessionRecord, SessionResult } from './session';

export interface SweeperOptions {
  sessions: AgentSessions;
  store: SessionStore;
  sql: Sql;
  logger: Logger;
  /** How long a processing session waits for Twilio's final callback before the journal is asked. */
  settleAfterMs: number;
  /** How long before a processing session whose payment never reached the journal is failed (nothing was charged). */
  noPaymentAfterMs: number;
  intervalMs?: number;
  now?: () => number;
}

/**
 * The work on sessions that must run once, whatever the number of replicas (the one holding the
 * database's `sessions` lock does it): sessions not finished in time are cancelled at Twilio and
 * end `expired`; processing sessions whose final callback never came (Twilio does not resend
 * callbacks, and its Payments API has no read) settle from the journal record of their payment;
 * digital sessions whose payment page went quiet lose their customer's presence.
 */
export class SessionSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** Unknown outcomes already reported by this process: logged once, counted by the metrics. */
  private readonly reported = new Set<string>();

  constructor(private readonly options: SweeperOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .catch((error: unknown) => {
          this.options.logger.error('session sweep failed', { error_type: (error as Error)?.name });
        })
        .finally(() => (this.running = undefined));
    }, this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async sweep(): Promise<void> {
    if (!(await this.options.sql.lead('sessions'))) return;
    const now = (this.options.now ?? Date.now)();
    for (const record of await this.options.store.expiring(now)) {
      // An IVR session's <Pay> cannot be cancelled from here, and may have charged without its
      // action reaching the service: the journal says how it ended, and only no payment at all is `expired`.
      if (record.resource.type === 'ivr' && record.resource.state === 'capturing') await this.settle(record, now, { otherwise: 'expired' });
      else await this.options.sessions.expire(record);
    }
    for (const record of await this.options.store.processingSince(now - this.options.settleAfterMs)) await this.settle(record, now);
    // A digital session's payment page sent no heartbeat for 15 s: its customer has gone.
    for (const record of await this.options.store.presenceLapsed(now)) {
      await this.options.sessions.change(record.resource.id, { kind: 'customer-left' }, 'service');
    }
  }

  private async settle(record: SessionRecord, now: number, options: { otherwise?: 'expired' } = {}): Promise<void> {
    const { resource } = record;
    const payments = await this.options.store.payments(resource.id);
    const approved = payments.find((payment) => payment.status === 'approved');
    if (approved) {
      await this.options.sessions.change(resource.id, { kind: 'settled-from-journal', approved: true, result: resultOf(approved) }, 'service', 'from the journal');
      return;
    }
    if (payments.some((payment) => payment.status === 'pending')) return;
    const unknown = payments.find((payment) => payment.status === 'unknown');
    if (unknown) {
      if (!this.reported.has(resource.id)) {
        this.reported.add(resource.id);
        this.options.logger.warn('session stuck in processing: its payment has an unknown outcome, reconcile it', {
          session_id: resource.id,
          connector: unknown.connector,
          transaction_id: unknown.transactionId,
        });
      }
      return;
    }
    const last = payments.at(-1);
    if (last) {
      await this.options.sessions.change(resource.id, { kind: 'settled-from-journal', approved: false, result: resultOf(last) }, 'service', 'from the journal');
    } else if (options.otherwise === 'expired') {
      await this.options.sessions.change(resource.id, { kind: 'expired' }, 'service');
    } else if (Date.parse(resource.updated_at) < now - this.options.noPaymentAfterMs) {
      await this.options.sessions.change(resource.id, { kind: 'no-payment' }, 'service');
    }
  }
}

/** A session's result from the journal's record of its payment: the id Twilio was answered, or the error. */
function resultOf(payment: JournalRecord): SessionResult {
  const { id } = readWireAnswer(payment.method, payment.answer?.body);
  return { [idKeyFor(payment.method)]: id, error_code: payment.errorCode, error_message: payment.errorMessage, twilio_error_code: null };
}

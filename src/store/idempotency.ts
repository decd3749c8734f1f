import { setTimeout as sleep } from 'node:timers/promises';
import { failureAnswer, type WireAnswer } from '../connector/answer';
import { JournalUnavailable, OutcomeUnknown, TransactionIdReused, TransactionInProgress } from '../errors';
import type { InstanceKeeper } from './instances';
import { keyString, type JournalRecord, type NewClaim, type Settlement, type TransactionJournal } from './journal';

export interface GateOptions {
  /** How long a duplicate waits for the first request's outcome before TRANSACTION_IN_PROGRESS. */
  waitLimitMs: number;
  /** At most this many requests wait at once; more are answered TRANSACTION_IN_PROGRESS at once. */
  maxWaiters: number;
  /** How often a duplicate of another replica's payment looks at the journal. */
  pollMs: number;
  /** First pause before writing an outcome again after the journal refused it (doubles, up to 30 s). */
  settleRetryMs?: number;
}

/** How a request met its transaction_id: the first, joined one running here, or replayed from the journal. */
export type Arrival = 'first' | 'joined' | 'replayed';

/**
 * Never charge twice. The first request for a key writes a durable `pending`
 * claim, then runs the payment; every other request with the key gets the first
 * answer, byte for byte: joined to the running call in this process, read from the
 * journal when another replica runs it or it is already settled.
 */
export class IdempotencyGate {
  private readonly running = new Map<string, { fingerprint: string; answer: Promise<WireAnswer> }>();
  private waiters = 0;
  private draining = false;

  constructor(
    private readonly journal: TransactionJournal,
    private readonly keeper: InstanceKeeper,
    private readonly options: GateOptions,
    private readonly onJournalError: (error: unknown) => void,
  ) {}

  async once(claim: NewClaim, perform: () => Promise<Settlement>, arrived: (how: Arrival) => void): Promise<WireAnswer> {
    const id = keyString(claim);
    const running = this.running.get(id);
    if (running) {
      if (running.fingerprint !== claim.fingerprint) throw reused();
      arrived('joined');
      return this.waitFor(running.answer);
    }
    const run = this.claimAndRun(claim, perform, arrived);
    const answer = run.then((done) => done.answer);
    const entry = { fingerprint: claim.fingerprint, answer };
    this.running.set(id, entry);
    // Until its outcome is in the journal, this process answers the key's duplicates from memory.
    run
      .then((done) => done.recorded)
      .finally(() => {
        if (this.running.get(id) === entry) this.running.delete(id);
      })
      .catch(() => undefined);
    return answer;
  }

  /** Resolves when every payment running in this process has settled (for a graceful stop). */
  async drain(): Promise<void> {
    this.draining = true;
    await Promise.allSettled([...this.running.values()].map((entry) => entry.answer));
  }

  private async claimAndRun(
    claim: NewClaim,
    perform: () => Promise<Settlement>,
    arrived: (how: Arrival) => void,
  ): Promise<{ answer: WireAnswer; recorded: Promise<void> }> {
    let claimed;
    try {
      claimed = await this.journal.claim(claim, Date.now());
    } catch (error) {
      this.onJournalError(error);
      throw new JournalUnavailable('The transaction journal is unavailable; the payment was not sent to the gateway');
    }
    if (!claimed.claimed) return { answer: await this.replay(claimed.existing, claim.fingerprint, arrived), recorded: Promise.resolve() };

    arrived('first');
    const settlement = await perform();
    // The answer goes out once the outcome is recorded, or once the journal has refused it.
    let recorded = Promise.resolve();
    try {
      await this.journal.settle(claim, settlement, Date.now());
    } catch (error) {
      this.onJournalError(error);
      recorded = this.recordLater(claim, settlement);
    }
    return { answer: settlement.answer, recorded };
  }

  /**
   * Writes the outcome again and again while the journal refuses it: a record left
   * `pending` by a live process would answer TRANSACTION_IN_PROGRESS to other replicas
   * for as long as the process runs. If the process stops first, the next instance
   * sweeps the record to `unknown`, as after a crash.
   */
  private async recordLater(claim: NewClaim, settlement: Settlement): Promise<void> {
    for (let pauseMs = this.options.settleRetryMs ?? 1_000; !this.draining; pauseMs = Math.min(2 * pauseMs, 30_000)) {
      await sleep(pauseMs, undefined, { ref: false });
      try {
        await this.journal.settle(claim, settlement, Date.now());
        return;
      } catch (error) {
        this.onJournalError(error);
      }
    }
  }

  private async replay(existing: JournalRecord, fingerprint: string, arrived: (how: Arrival) => void): Promise<WireAnswer> {
    if (existing.fingerprint !== fingerprint) throw reused();
    if (existing.status !== 'pending') {
      arrived('replayed');
      return answerOf(existing);
    }
    return this.waiting(async () => {
      const deadline = Date.now() + this.options.waitLimitMs;
      for (let round = 1; Date.now() < deadline; round++) {
        await sleep(this.options.pollMs);
        // Now and then, check whether the instance running it has died.
        if (round % 4 === 0) await this.keeper.sweep().catch(this.onJournalError);
        const record = await this.journal.get(existing).catch((error: unknown) => {
          this.onJournalError(error);
          throw new JournalUnavailable('The transaction journal is unavailable; retry with the same transaction_id');
        });
        if (record && record.status !== 'pending') {
          arrived('replayed');
          return answerOf(record);
        }
      }
      throw inProgress();
    });
  }

  private waitFor(answer: Promise<WireAnswer>): Promise<WireAnswer> {
    return this.waiting(async () => {
      const timer = new AbortController();
      const expiry = sleep(this.options.waitLimitMs, undefined, { signal: timer.signal }).then(() => Promise.reject(inProgress()));
      expiry.catch(() => undefined); // aborted once the answer came first
      try {
        return await Promise.race([answer, expiry]);
      } finally {
        timer.abort();
      }
    });
  }

  private async waiting<T>(wait: () => Promise<T>): Promise<T> {
    if (this.waiters >= this.options.maxWaiters) throw inProgress();
    this.waiters += 1;
    try {
      return await wait();
    } finally {
      this.waiters -= 1;
    }
  }
}

/** The first answer; for a payment whose process died mid-call there was none, so OUTCOME_UNKNOWN. */
export function answerOf(record: JournalRecord): WireAnswer {
  return record.answer ?? failureAnswer(record.method, new OutcomeUnknown(record.errorMessage ?? 'The outcome of the first attempt is unknown'));
}

const reused = () => new TransactionIdReused('This transaction_id was already used for a different payment; the gateway was not called');
const inProgress = () =>
  new TransactionInProgress('A payment with this transaction_id is still in progress; retry with the same transaction_id');

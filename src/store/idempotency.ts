import { setTimeout as sleep } from 'node:timers/promises';
import { answerFailure, type WireAnswer } from '../contract/connector-answer';
import { JournalUnavailable, OutcomeUnknown, TransactionIdReused, TransactionInProgress, Unauthorized } from '../errors';
import type { InstanceKeeper } from './instances';
import { keyString, type JournalRecord, type JournalStatus, type NewClaim, type Settlement, type TransactionJournal, type TransactionKey } from './journal';

export interface GateOptions {
  /** How long a duplicate waits for the first request's outcome before TRANSACTION_IN_PROGRESS. */
  waitLimitMs: number;
  /** Requests waiting at once per transaction_id; more are answered TRANSACTION_IN_PROGRESS at once. */
  maxWaitersPerKey: number;
  /** The same per gateway account, so that one account's duplicates never crowd out another's. */
  maxWaitersPerAccount: number;
  /** The same in all: a bound on memory whatever the number of accounts. */
  maxWaiters: number;
  /** How often a duplicate of another replica's payment looks at the journal. */
  pollMs: number;
  /** First pause before writing an outcome again after the journal refused it (doubles, up to 30 s). */
  settleRetryMs?: number;
}

/** How a request met its transaction_id: the first, joined one running here, or replayed from the journal. */
export type Arrival = 'first' | 'joined' | 'replayed';

/** One request's payment, as the gate sees it. */
export interface PaymentAttempt {
  claim: NewClaim;
  /** Keys a record of this payment may have been written under before a hash-key rotation. */
  formerKeys?: TransactionKey[];
  /** True when a credential hash stored with a record was made from this request's credentials. */
  sameCredentials(storedHash: string | null): boolean;
  /** The payment itself: run only by the request that wins the claim. Always settles. */
  perform(): Promise<Settlement>;
}

/** What a request got for its key: the first answer, and how that payment ended. */
export interface GateResult {
  answer: WireAnswer;
  arrival: Arrival;
  /** How the payment ended, as the journal has it or will have it. */
  status: Exclude<JournalStatus, 'pending'>;
  errorCode: string | null;
  /** The gateway call's time, for the request that made it. */
  gatewayMs: number | null;
}

/** What this process knows of a key: its payment running here, or the journal's record of it. */
type KeyState =
  | { kind: 'running'; first: NewClaim; settled: Promise<Settlement>; recorded: Promise<void> }
  | { kind: 'recorded'; record: JournalRecord };

/**
 * Never charge twice. The first request for a key writes a durable `pending` claim, then runs the
 * payment; every other request with the key gets the first answer, byte for byte: joined to the
 * running call in this process, read from the journal when another replica runs it or it is
 * already settled. Each is compared with the first request, never with another duplicate: the
 * same credentials (or 401, counted as a failed authentication), then the same payment (or
 * TRANSACTION_ID_REUSED), so whatever else arrives, a genuine retry gets the first answer.
 */
export class IdempotencyGate {
  /** Per key: the claim being written, then the payment running here until its outcome is recorded. */
  private readonly keys = new Map<string, Promise<KeyState>>();
  /** Per key: the one journal poll that every duplicate of another replica's payment shares. */
  private readonly polls = new Map<string, Promise<JournalRecord>>();
  private readonly waitersByKey = new Map<string, number>();
  private readonly waitersByAccount = new Map<string, number>();
  private waiters = 0;
  private draining = false;

  constructor(
    private readonly journal: TransactionJournal,
    private readonly keeper: InstanceKeeper,
    private readonly options: GateOptions,
    private readonly onJournalError: (error: unknown) => void,
  ) {}

  async once(attempt: PaymentAttempt): Promise<GateResult> {
    const id = keyString(attempt.claim);
    const existing = this.keys.get(id);
    if (existing) return this.follow(await existing, attempt);

    const state = this.claimOrFind(attempt).then((existing): KeyState => (existing ? { kind: 'recorded', record: existing } : this.run(attempt)));
    this.keys.set(id, state);
    // A record is read again by later arrivals; a payment running here is answered from memory
    // until its outcome is in the journal.
    state
      .then((settled) => (settled.kind === 'running' ? settled.recorded : undefined))
      .finally(() => {
        if (this.keys.get(id) === state) this.keys.delete(id);
      })
      .catch(() => undefined);

    const known = await state;
    if (known.kind === 'running' && known.first === attempt.claim) return { ...resultOf(await known.settled), arrival: 'first' };
    return this.follow(known, attempt);
  }

  /** Resolves when every payment running in this process has settled (for a graceful stop). */
  async drain(): Promise<void> {
    this.draining = true;
    const running = await Promise.allSettled([...this.keys.values()]);
    await Promise.allSettled(running.map((state) => (state.status === 'fulfilled' && state.value.kind === 'running' ? state.value.settled : undefined)));
  }

  /** Writes the claim; a record that already holds the key (under any former key too) is returned instead. */
  private async claimOrFind(attempt: PaymentAttempt): Promise<JournalRecord | undefined> {
    try {
      for (const former of attempt.formerKeys ?? []) {
        const earlier = await this.journal.get(former);
        if (earlier) return earlier;
      }
      const claimed = await this.journal.claim(attempt.claim, Date.now());
      return claimed.claimed ? undefined : claimed.existing;
    } catch (error) {
      this.onJournalError(error);
      throw new JournalUnavailable('The transaction journal is unavailable; the payment was not sent to the gateway');
    }
  }

  /** The claim is won: the payment runs, and its answer goes out once the outcome is recorded or refused. */
  private run(attempt: PaymentAttempt): KeyState {
    const done = (async () => {
      const settlement = await attempt.perform();
      let recorded = Promise.resolve();
      try {
        await this.journal.settle(attempt.claim, settlement, Date.now());
      } catch (error) {
        this.onJournalError(error);
        recorded = this.recordLater(attempt.claim, settlement);
      }
      return { settlement, recorded };
    })();
    return { kind: 'running', first: attempt.claim, settled: done.then((outcome) => outcome.settlement), recorded: done.then((outcome) => outcome.recorded) };
  }

  /** A duplicate: checked against the first request, then given its answer. */
  private async follow(state: KeyState, attempt: PaymentAttempt): Promise<GateResult> {
    const first = state.kind === 'running' ? state.first : state.record;
    // The same text as the gateway's own refusal: a wrong secret learns nothing about the payment.
    if (!attempt.sameCredentials(first.credentialHash)) throw new Unauthorized('The gateway refused the credentials');
    if (first.fingerprint !== attempt.claim.fingerprint) throw reused();
    if (state.kind === 'running') {
      const settlement = await this.waiting(attempt.claim, () => this.within(state.settled));
      return { ...resultOf(settlement), arrival: 'joined', gatewayMs: null };
    }
    const record = state.record.status !== 'pending' ? state.record : await this.waiting(attempt.claim, () => this.settledRecord(state.record));
    return { answer: answerOf(record), arrival: 'replayed', status: record.status as GateResult['status'], errorCode: record.errorCode, gatewayMs: null };
  }

  /** Another replica's payment: one poll of the journal per key, whoever waits for it. */
  private settledRecord(pending: JournalRecord): Promise<JournalRecord> {
    const id = keyString(pending);
    let poll = this.polls.get(id);
    if (!poll) {
      poll = this.poll(pending).finally(() => this.polls.delete(id));
      this.polls.set(id, poll);
    }
    return poll;
  }

  private async poll(pending: JournalRecord): Promise<JournalRecord> {
    const deadline = Date.now() + this.options.waitLimitMs;
    for (let round = 1; Date.now() < deadline; round++) {
      await sleep(this.options.pollMs);
      // Now and then, check whether the instance running it has died.
      if (round % 4 === 0) await this.keeper.sweep().catch(this.onJournalError);
      const record = await this.journal.get(pending).catch((error: unknown) => {
        this.onJournalError(error);
        throw new JournalUnavailable('The transaction journal is unavailable; retry with the same transaction_id');
      });
      if (record && record.status !== 'pending') return record;
    }
    throw inProgress();
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

  /** The running payment's outcome, or TRANSACTION_IN_PROGRESS once the wait limit has passed. */
  private async within(settled: Promise<Settlement>): Promise<Settlement> {
    const timer = new AbortController();
    const expiry = sleep(this.options.waitLimitMs, undefined, { signal: timer.signal }).then(() => Promise.reject(inProgress()));
    expiry.catch(() => undefined); // aborted once the answer came first
    try {
      return await Promise.race([settled, expiry]);
    } finally {
      timer.abort();
    }
  }

  /** Bounded waiting: per transaction_id, per gateway account and in all. */
  private async waiting<T>(key: TransactionKey, wait: () => Promise<T>): Promise<T> {
    const byKey = keyString(key);
    const byAccount = JSON.stringify([key.connector, key.account]);
    const { maxWaitersPerKey, maxWaitersPerAccount, maxWaiters } = this.options;
    if (
      this.waiters >= maxWaiters ||
      (this.waitersByKey.get(byKey) ?? 0) >= maxWaitersPerKey ||
      (this.waitersByAccount.get(byAccount) ?? 0) >= maxWaitersPerAccount
    ) {
      throw inProgress();
    }
    this.waiters += 1;
    count(this.waitersByKey, byKey, +1);
    count(this.waitersByAccount, byAccount, +1);
    try {
      return await wait();
    } finally {
      this.waiters -= 1;
      count(this.waitersByKey, byKey, -1);
      count(this.waitersByAccount, byAccount, -1);
    }
  }
}

function resultOf(settlement: Settlement): Omit<GateResult, 'arrival'> {
  return { answer: settlement.answer, status: settlement.status, errorCode: settlement.errorCode, gatewayMs: settlement.gatewayMs };
}

/** Adds to a counter of a map that holds only counters above zero. */
function count(counters: Map<string, number>, key: string, change: number): void {
  const value = (counters.get(key) ?? 0) + change;
  if (value > 0) counters.set(key, value);
  else counters.delete(key);
}

/** The first answer; for a payment whose process died mid-call there was none, so OUTCOME_UNKNOWN. */
export function answerOf(record: JournalRecord): WireAnswer {
  return record.answer ?? answerFailure(new OutcomeUnknown(record.errorMessage ?? 'The outcome of the first attempt is unknown'), { method: record.method }).answer;
}

const reused = () => new TransactionIdReused('This transaction_id was already used for a different payment; the gateway was not called');
const inProgress = () =>
  new TransactionInProgress('A payment with this transaction_id is still in progress; retry with the same transaction_id');

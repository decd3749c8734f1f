import type { TransactionJournal } from './journal';

const DAY_MS = 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Something else kept for RETENTION_DAYS (ended sessions, delivered webhooks): deletes what was created before `before`. */
export type Pruning = (before: number) => Promise<number>;

/** Deletes settled journal records (and whatever else is kept as long) older than RETENTION_DAYS: at start-up, then hourly. */
export class JournalPruner {
  private timer?: NodeJS.Timeout;
  private readonly also: Pruning[] = [];

  constructor(
    private readonly journal: TransactionJournal,
    private readonly retentionDays: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Prunes this too, on the same schedule. */
  add(pruning: Pruning): void {
    this.also.push(pruning);
  }

  async start(): Promise<void> {
    await this.prune();
    this.timer = setInterval(() => void this.prune().catch(this.onError), PRUNE_EVERY_MS);
    this.timer.unref();
  }

  async prune(now = Date.now()): Promise<number> {
    const before = now - this.retentionDays * DAY_MS;
    const pruned = await this.journal.prune(before);
    for (const pruning of this.also) await pruning(before);
    return pruned;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

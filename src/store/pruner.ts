import type { TransactionJournal } from './journal';

const DAY_MS = 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Deletes settled journal records older than RETENTION_DAYS: at start-up, then hourly. */
export class JournalPruner {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly journal: TransactionJournal,
    private readonly retentionDays: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  async start(): Promise<void> {
    await this.prune();
    this.timer = setInterval(() => void this.prune().catch(this.onError), PRUNE_EVERY_MS);
    this.timer.unref();
  }

  prune(now = Date.now()): Promise<number> {
    return this.journal.prune(now - this.retentionDays * DAY_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

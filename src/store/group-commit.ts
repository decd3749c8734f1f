import { setImmediate as nextTurn } from 'node:timers';

/**
 * Group commit for a synchronous database: writes asked for in the same turn of
 * the event loop run in one transaction, so they share one fsync. Each caller
 * still waits until its own write is on disk before going on: a claim is durable
 * before its gateway call, as with one transaction per write, at a fraction of the
 * cost under load.
 */
export class GroupCommit {
  private queue: Array<{ write: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }> = [];
  private scheduled = false;

  constructor(private readonly inTransaction: (writes: () => void) => void) {}

  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        nextTurn(() => this.flush());
      }
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    const results: unknown[] = [];
    try {
      this.inTransaction(() => {
        for (const entry of batch) results.push(entry.write());
      });
    } catch (error) {
      // The transaction rolled back: nothing in it is on disk, so every caller hears of it.
      for (const entry of batch) entry.reject(error);
      return;
    }
    batch.forEach((entry, index) => entry.resolve(results[index]));
  }
}

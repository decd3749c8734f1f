import { LRUCache } from 'lru-cache';

/**
 * Counts events per key in a fixed window, forgetting the least recently seen keys beyond `maxKeys`:
 * memory stays bounded whatever the number of keys an attacker makes up. Evicting a key forgets its
 * count, so the bound must be far above the keys one legitimate window holds.
 */
export class RateLimiter {
  private readonly windows: LRUCache<string, { start: number; count: number }>;

  constructor(
    private readonly options: { limit: number; windowMs: number; maxKeys: number; now?: () => number },
  ) {
    this.windows = new LRUCache({ max: options.maxKeys });
  }

  /** Counts one event for `key`; false when the key has already had `limit` in this window (not counted then). */
  take(key: string): boolean {
    const now = (this.options.now ?? Date.now)();
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.options.windowMs) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    if (window.count >= this.options.limit) return false;
    window.count += 1;
    return true;
  }

  /** Seconds until `key` may act again. */
  retryAfterSeconds(key: string): number {
    const window = this.windows.peek(key);
    if (!window) return 0;
    return Math.max(1, Math.ceil((window.start + this.options.windowMs - (this.options.now ?? Date.now)()) / 1000));
  }

  get size(): number {
    return this.windows.size;
  }
}

import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { InstanceRecord, OrphanedClaim, TransactionJournal } from './journal';

/** How often a running instance says it is alive. */
export const HEARTBEAT_MS = 5_000;
/** An instance silent for this long is dead; its pending payments become `unknown`. */
export const STALE_AFTER_MS = 30_000;
/**
 * An instance that registered after a sweep read the instance list is not in it.
 * Its claims are younger than the read; this margin covers clock skew between hosts.
 */
const CLOCK_SKEW_MS = 2_000;

export interface Me {
  id: string;
  host: string;
  pid: number;
}

export function thisInstance(): Me {
  return { id: randomUUID(), host: os.hostname(), pid: process.pid };
}

/**
 * Which instances are certainly gone: silent too long, or on this host with a
 * process id that is no longer running (or is ours: a container restarted as pid 1).
 * A pending payment they owned can never be settled by them.
 */
export function deadInstances(instances: InstanceRecord[], me: Me, now: number): string[] {
  return instances
    .filter((other) => other.id !== me.id)
    .filter(
      (other) =>
        other.heartbeatAt < now - STALE_AFTER_MS || (other.host === me.host && (other.pid === me.pid || !processIsRunning(other.pid))),
    )
    .map((other) => other.id);
}

function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Keeps this instance registered and turns the pending payments of dead ones into
 * `unknown`: at start-up (a restart after a crash), on every heartbeat, and when a
 * retry finds a payment pending.
 */
export class InstanceKeeper {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly journal: TransactionJournal,
    readonly me: Me,
    private readonly onError: (error: unknown) => void,
    /** Told which pending payments each sweep turned into `unknown`. */
    private readonly onOrphaned: (claims: OrphanedClaim[]) => void = () => undefined,
  ) {}

  /** Registers this instance and sweeps once; resolves with the payments that sweep found orphaned. */
  async start(): Promise<OrphanedClaim[]> {
    const now = Date.now();
    await this.journal.registerInstance({ ...this.me, startedAt: now, heartbeatAt: now });
    const orphaned = await this.sweep();
    this.timer = setInterval(() => {
      this.journal
        .heartbeat(this.me.id, Date.now())
        .then(() => this.sweep())
        .catch(this.onError);
    }, HEARTBEAT_MS);
    this.timer.unref();
    return orphaned;
  }

  /**
   * Marks `unknown` every pending payment whose owner is not a live instance (dead,
   * or already gone after a stop that could not settle it), and forgets dead instances.
   */
  async sweep(): Promise<OrphanedClaim[]> {
    const readAt = Date.now();
    const instances = await this.journal.instances();
    const now = Date.now();
    const dead = new Set(deadInstances(instances, this.me, readAt));
    const live = [this.me.id, ...instances.map((other) => other.id).filter((id) => id !== this.me.id && !dead.has(id))];
    const orphaned = await this.journal.orphanPending(live, readAt - CLOCK_SKEW_MS, now);
    if (orphaned.length > 0) this.onOrphaned(orphaned);
    if (dead.size > 0) await this.journal.removeInstances([...dead]);
    return orphaned;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.journal.removeInstances([this.me.id]);
  }
}

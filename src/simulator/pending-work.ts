/** A payment flow that queues its callbacks on a chain of its own. */
export interface Flow {
  settled(): Promise<void>;
}

/**
 * Work the simulator has started and not finished (callbacks queued by sessions and `<Pay>`s,
 * TwiML being fetched, messages being delivered), so that `settled()` can wait for all of it.
 */
export class PendingWork {
  private readonly pending = new Set<Promise<unknown>>();
  private readonly flows: Flow[] = [];

  track(work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.pending.add(settled);
    void settled.then(() => this.pending.delete(settled));
  }

  trackFlow(flow: Flow): void {
    this.flows.push(flow);
  }

  /** Resolves once nothing is pending, including work that waiting itself let start. */
  async settled(): Promise<void> {
    do {
      await Promise.all([...this.pending, ...this.flows.map((flow) => flow.settled())]);
      await Promise.all(this.flows.map((flow) => flow.settled()));
    } while (this.pending.size > 0);
  }
}

import type { Sql } from '../store/sql';
import type { SessionStore } from '../store/session-store';
import type { SessionResource } from './session';

/** The channel replicas tell each other on that a session changed: its id and version, no more. */
export const SESSION_CHANNEL = 'paybridge_sessions';

export type SessionListener = (session: SessionResource, version: number) => void;

/**
 * Who is watching which session (the event streams), and the news that one changed: from this
 * replica directly, from the others through the database (PostgreSQL LISTEN/NOTIFY; SQLite runs
 * in one process). A notification carries only the id and the version, far under PostgreSQL's
 * 8,000-byte limit; the session itself is read here, once per change, whatever the number of
 * streams watching it.
 */
export class SessionEvents {
  private readonly watchers = new Map<string, Set<SessionListener>>();
  /** The newest version each watched session was told at: a late or duplicate notification is dropped. */
  private readonly told = new Map<string, number>();

  constructor(
    private readonly sql: Sql,
    private readonly store: SessionStore,
    private readonly onError: (error: unknown) => void,
  ) {}

  async start(): Promise<void> {
    await this.sql.listen(SESSION_CHANNEL, (payload) => void this.heard(payload));
  }

  /** Calls `listener` with the session each time it changes, until the returned function is called. */
  watch(sessionId: string, listener: SessionListener): () => void {
    const listeners = this.watchers.get(sessionId) ?? new Set<SessionListener>();
    listeners.add(listener);
    this.watchers.set(sessionId, listeners);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) {
        this.watchers.delete(sessionId);
        this.told.delete(sessionId);
      }
    };
  }

  /** A session changed here: its watchers hear now, the other replicas through the database. */
  async changed(session: SessionResource, version: number): Promise<void> {
    this.tell(session, version);
    await this.sql.notify(SESSION_CHANNEL, JSON.stringify({ id: session.id, v: version }));
  }

  private async heard(payload: string): Promise<void> {
    try {
      const { id, v } = JSON.parse(payload) as { id: string; v: number };
      if (!this.watchers.has(id) || (this.told.get(id) ?? 0) >= v) return;
      const record = await this.store.get(id);
      if (record) this.tell(record.resource, record.version);
    } catch (error) {
      this.onError(error);
    }
  }

  private tell(session: SessionResource, version: number): void {
    const listeners = this.watchers.get(session.id);
    if (!listeners || (this.told.get(session.id) ?? 0) >= version) return;
    this.told.set(session.id, version);
    for (const listener of listeners) listener(session, version);
  }
}

import type { SessionInternals, SessionRecord, SessionResource, SessionState } from '../sessions/session';
import { recordFromRow, type TransactionRow } from './rows';
import type { JournalRecord } from './journal';
import type { Sql, Statement } from './sql';

interface SessionRow {
  id: string;
  client_id: string;
  version: number | string;
  resource: string;
  internal: string;
  idempotency_key: string | null;
  request_hash: string | null;
}

/** One line of a session's history: who did what, and the state it left. */
export interface HistoryEntry {
  version: number;
  at: string;
  /** `client:<id>`, `console:<user>`, `twilio` or `service`. */
  actor: string;
  action: string;
  state: SessionState;
  detail?: string;
}

export type InsertOutcome = { inserted: true } | { inserted: false; sameKey: SessionRecord } | { inserted: false; activeOnCall: true };

export interface SessionQuery {
  clientId: string;
  reference?: string;
  state?: SessionState;
  /** Epoch ms, inclusive. */
  since?: number;
  limit: number;
}

/**
 * Sessions, their history and (through the statements callers add) their webhooks, in the journal's
 * database. Every change is an optimistic update of one version to the next, in one transaction
 * with its history line: two replicas changing one session at once cannot both win.
 */
export class SessionStore {
  constructor(private readonly sql: Sql) {}

  /** A new session, unless its Idempotency-Key was used (that session is returned) or its call has an active one. */
  async insert(record: SessionRecord, history: HistoryEntry): Promise<InsertOutcome> {
    const { resource } = record;
    const inserted = await this.sql.batch(
      [
        {
          text: `INSERT INTO sessions (id, client_id, type, state, call_sid, reference, version, resource, internal, idempotency_key, request_hash,
                                       expires_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) ON CONFLICT DO NOTHING`,
          params: [
            resource.id,
            record.clientId,
            resource.type,
            resource.state,
            resource.call_sid,
            resource.reference,
            record.version,
            JSON.stringify(resource),
            JSON.stringify(record.internals),
            record.idempotencyKey ?? null,
            record.requestHash ?? null,
            Date.parse(resource.expires_at),
            Date.parse(resource.created_at),
          ],
        },
        historyInsert(resource.id, history),
      ],
      { firstMustChange: true },
    );
    if (inserted) return { inserted: true };
    if (record.idempotencyKey !== undefined) {
      const [row] = await this.sql.all<SessionRow>({
        text: 'SELECT * FROM sessions WHERE client_id = $1 AND idempotency_key = $2',
        params: [record.clientId, record.idempotencyKey],
      });
      if (row) return { inserted: false, sameKey: fromRow(row) };
    }
    return { inserted: false, activeOnCall: true };
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const [row] = await this.sql.all<SessionRow>({ text: 'SELECT * FROM sessions WHERE id = $1', params: [id] });
    return row ? fromRow(row) : undefined;
  }

  /** A client's sessions, newest first. */
  async list(query: SessionQuery): Promise<SessionResource[]> {
    const conditions = ['client_id = $1'];
    const params: unknown[] = [query.clientId];
    const add = (condition: string, value: unknown) => {
      params.push(value);
      conditions.push(condition.replace('?', `$${params.length}`));
    };
    if (query.reference !== undefined) add('reference = ?', query.reference);
    if (query.state !== undefined) add('state = ?', query.state);
    if (query.since !== undefined) add('created_at >= ?', query.since);
    params.push(query.limit);
    const rows = await this.sql.all<SessionRow>({
      text: `SELECT * FROM sessions WHERE ${conditions.join(' AND ')} ORDER BY created_at DESC, id LIMIT $${params.length}`,
      params,
    });
    return rows.map((row) => fromRow(row).resource);
  }

  /**
   * Writes `after` over `before` if nobody changed the session meanwhile, with its history line
   * and any further statements (the webhooks it causes) in the same transaction. False when
   * another change came first: the caller reads the session again and re-applies its event.
   */
  async save(before: SessionRecord, after: SessionRecord, history: HistoryEntry | undefined, also: Statement[] = []): Promise<boolean> {
    const { resource } = after;
    return this.sql.batch(
      [
        {
          text: `UPDATE sessions SET state = $1, version = $2, resource = $3, internal = $4, updated_at = $5, call_sid = $8, expires_at = $9,
                        presence_until = $10
                  WHERE id = $6 AND version = $7`,
          params: [
            resource.state,
            after.version,
            JSON.stringify(resource),
            JSON.stringify(after.internals),
            Date.parse(resource.updated_at),
            resource.id,
            before.version,
            resource.call_sid,
            Date.parse(resource.expires_at),
            after.internals.digital?.presenceUntil ?? null,
          ],
        },
        ...(history ? [historyInsert(resource.id, history)] : []),
        ...also,
      ],
      { firstMustChange: true },
    );
  }

  async history(id: string): Promise<HistoryEntry[]> {
    const rows = await this.sql.all<{ version: number | string; at: number | string; actor: string; action: string; state: SessionState; detail: string | null }>({
      text: 'SELECT version, at, actor, action, state, detail FROM session_history WHERE session_id = $1 ORDER BY version',
      params: [id],
    });
    return rows.map((row) => ({
      version: Number(row.version),
      at: new Date(Number(row.at)).toISOString(),
      actor: row.actor,
      action: row.action,
      state: row.state,
      ...(row.detail ? { detail: row.detail } : {}),
    }));
  }

  /** Sessions still collecting whose time is up. */
  async expiring(now: number, limit = 100): Promise<SessionRecord[]> {
    const rows = await this.sql.all<SessionRow>({
      text: `SELECT * FROM sessions WHERE state IN ('created', 'capturing') AND expires_at < $1 ORDER BY expires_at LIMIT $2`,
      params: [now, limit],
    });
    return rows.map(fromRow);
  }

  /** Sessions processing since before `before`: their final callback is late. */
  /** Digital sessions whose customer counted as present until before `now`: the payment page has gone quiet. */
  async presenceLapsed(now: number, limit = 100): Promise<SessionRecord[]> {
    const rows = await this.sql.all<SessionRow>({
      text: 'SELECT * FROM sessions WHERE presence_until IS NOT NULL AND presence_until < $1 ORDER BY presence_until LIMIT $2',
      params: [now, limit],
    });
    return rows.map(fromRow);
  }

  async processingSince(before: number, limit = 100): Promise<SessionRecord[]> {
    const rows = await this.sql.all<SessionRow>({
      text: `SELECT * FROM sessions WHERE state = 'processing' AND updated_at < $1 ORDER BY updated_at LIMIT $2`,
      params: [before, limit],
    });
    return rows.map(fromRow);
  }

  async countProcessingSince(before: number): Promise<number> {
    const [row] = await this.sql.all<{ count: number | string }>({
      text: `SELECT COUNT(*) AS count FROM sessions WHERE state = 'processing' AND updated_at < $1`,
      params: [before],
    });
    return Number(row?.count ?? 0);
  }

  async countByState(): Promise<Array<{ state: SessionState; count: number }>> {
    const rows = await this.sql.all<{ state: SessionState; count: number | string }>({ text: 'SELECT state, COUNT(*) AS count FROM sessions GROUP BY state' });
    return rows.map((row) => ({ state: row.state, count: Number(row.count) }));
  }

  /** The journal's records of the payments a session's connector requests made (joined by the session id). */
  async payments(sessionId: string): Promise<JournalRecord[]> {
    const rows = await this.sql.all<TransactionRow>({ text: 'SELECT * FROM transactions WHERE session_id = $1 ORDER BY created_at', params: [sessionId] });
    return rows.map(recordFromRow);
  }

  /** Deletes ended sessions (and their history) created before `before`; returns how many. */
  async prune(before: number): Promise<number> {
    await this.sql.run({
      text: `DELETE FROM session_history WHERE session_id IN (SELECT id FROM sessions WHERE created_at < $1 AND state NOT IN ('created', 'capturing', 'processing'))`,
      params: [before],
    });
    return this.sql.run({ text: `DELETE FROM sessions WHERE created_at < $1 AND state NOT IN ('created', 'capturing', 'processing')`, params: [before] });
  }
}

function historyInsert(sessionId: string, entry: HistoryEntry): Statement {
  return {
    text: 'INSERT INTO session_history (session_id, version, at, actor, action, state, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    params: [sessionId, entry.version, Date.parse(entry.at), entry.actor, entry.action, entry.state, entry.detail ?? null],
  };
}

function fromRow(row: SessionRow): SessionRecord {
  return {
    resource: JSON.parse(row.resource) as SessionResource,
    internals: JSON.parse(row.internal) as SessionInternals,
    clientId: row.client_id,
    version: Number(row.version),
    idempotencyKey: row.idempotency_key ?? undefined,
    requestHash: row.request_hash ?? undefined,
  };
}

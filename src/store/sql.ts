import { EventEmitter } from 'node:events';
import type Database from 'better-sqlite3';
import type { Pool, PoolClient } from 'pg';
import { GroupCommit } from './group-commit';

/** One statement, with `$1`, `$2`... placeholders in both databases. */
export interface Statement {
  text: string;
  params?: unknown[];
}

/**
 * The database the journal lives in, for the stores written once for both engines (sessions,
 * their history, the webhook outbox): portable SQL, atomic batches, change notifications across
 * replicas, and a way for one replica to lead the work that must run once.
 */
export interface Sql {
  readonly kind: 'sqlite' | 'postgres';
  all<Row>(statement: Statement): Promise<Row[]>;
  /** How many rows a statement changed. */
  run(statement: Statement): Promise<number>;
  /**
   * Runs the statements in one transaction. With `firstMustChange`, it is rolled back (and false
   * returned) when the first statement changes no row: an optimistic update that lost a race.
   */
  batch(statements: Statement[], options?: { firstMustChange?: boolean }): Promise<boolean>;
  /** Tells every replica (this one included) `payload` on `channel`, once the caller's writes are committed. */
  notify(channel: string, payload: string): Promise<void>;
  /** Calls `listener` with every payload notified on `channel`, by any replica. */
  listen(channel: string, listener: (payload: string) => void): Promise<void>;
  /** True while this replica holds the lock named `name`: the one that runs work meant to run once. */
  lead(name: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * SQLite: one process per file, so notifications stay in the process and it always leads. Batches
 * of one turn of the event loop share one transaction and one fsync (group commit, as the
 * journal's claims do), each in a savepoint of its own, so one that loses its race rolls back alone.
 */
export function sqliteSql(db: Database.Database): Sql {
  const commits = new GroupCommit((writes) => db.transaction(writes)());
  const local = new EventEmitter().setMaxListeners(0);
  const prepared = new Map<string, Database.Statement>();
  const prepare = (text: string) => {
    let statement = prepared.get(text);
    if (!statement) {
      statement = db.prepare(text.replace(/\$(\d+)/g, '?$1'));
      prepared.set(text, statement);
    }
    return statement;
  };
  // Positional $n become SQLite's ?n, which better-sqlite3 binds from an object keyed by n.
  const bind = (params: unknown[] = []) => Object.fromEntries(params.map((value, index) => [index + 1, sqliteValue(value)]));
  const changes = ({ text, params }: Statement) => {
    const statement = prepare(text);
    return statement.reader ? statement.all(bind(params)).length : statement.run(bind(params)).changes;
  };
  return {
    kind: 'sqlite',
    async all<Row>({ text, params }: Statement) {
      return prepare(text).all(bind(params)) as Row[];
    },
    async run(statement) {
      return changes(statement);
    },
    batch(statements, options = {}) {
      return commits.run(() => {
        try {
          db.transaction(() => {
            statements.forEach((statement, index) => {
              if (changes(statement) === 0 && index === 0 && options.firstMustChange) throw new RolledBack();
            });
          })();
          return true;
        } catch (error) {
          if (error instanceof RolledBack) return false;
          throw error;
        }
      });
    },
    async notify(channel, payload) {
      setImmediate(() => local.emit(channel, payload));
    },
    async listen(channel, listener) {
      local.on(channel, listener);
    },
    async lead() {
      return true;
    },
    async close() {
      local.removeAllListeners();
    },
  };
}

/** PostgreSQL: batches on one client, LISTEN/NOTIFY and an advisory lock on a dedicated connection. */
export function postgresSql(pool: Pool): Sql {
  const listeners = new Map<string, Array<(payload: string) => void>>();
  let dedicated: Promise<PoolClient> | undefined;
  const held = new Set<string>();
  const connection = () =>
    (dedicated ??= pool.connect().then(async (client) => {
      client.on('notification', (message) => {
        for (const listener of listeners.get(message.channel) ?? []) listener(message.payload ?? '');
      });
      // Losing it loses the notifications and the leadership: the next call connects again, and
      // listens again on every channel listened on before.
      client.on('error', () => {
        dedicated = undefined;
        held.clear();
      });
      for (const channel of listeners.keys()) await client.query(`LISTEN ${quoteIdentifier(channel)}`);
      return client;
    }));
  return {
    kind: 'postgres',
    async all<Row>({ text, params }: Statement) {
      return (await pool.query(text, params)).rows as Row[];
    },
    async run({ text, params }) {
      return (await pool.query(text, params)).rowCount ?? 0;
    },
    async batch(statements, options = {}) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (const [index, { text, params }] of statements.entries()) {
          const result = await client.query(text, params);
          if (index === 0 && options.firstMustChange && (result.rowCount ?? 0) === 0) {
            await client.query('ROLLBACK');
            return false;
          }
        }
        await client.query('COMMIT');
        return true;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async notify(channel, payload) {
      await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async listen(channel, listener) {
      const client = await connection();
      if (!listeners.has(channel)) {
        listeners.set(channel, []);
        await client.query(`LISTEN ${quoteIdentifier(channel)}`);
      }
      listeners.get(channel)!.push(listener);
    },
    async lead(name) {
      if (held.has(name)) return true;
      const client = await connection();
      // Advisory locks belong to the database: the schema in the key keeps deployments that share
      // one database in different schemas from leading each other's work.
      const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtext(current_schema() || ':' || $1)) AS locked", [name]);
      if (rows[0]?.locked) held.add(name);
      return held.has(name);
    },
    async close() {
      const client = await dedicated?.catch(() => undefined);
      client?.release();
      dedicated = undefined;
      listeners.clear();
      held.clear();
    },
  };
}

class RolledBack extends Error {}

function sqliteValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

function quoteIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error('channel names are lower-case identifiers');
  return `"${name}"`;
}

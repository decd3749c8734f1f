import type { Config } from '../config/settings';
import { StartupError } from '../errors';
import type { TransactionJournal } from './journal';
import { postgresSql, sqliteSql, type Sql } from './sql';
import { openSqliteDatabase, openSqliteJournal, sqliteJournalOver } from './sqlite-journal';

/** The database: the journal, and the same database for the stores written in portable SQL. */
export interface Store {
  journal: TransactionJournal;
  sql: Sql;
  close(): Promise<void>;
}

/** PostgreSQL when DATABASE_URL is set (several replicas), else the embedded SQLite file under DATA_DIR. */
export async function openStore(config: { databaseUrl?: string; dataDir: string }): Promise<Store> {
  return opening(config, async () => {
    if (!config.databaseUrl) {
      // The journal's claims wait for the disk before a gateway is called. A session's changes
      // (a digit typed, a field captured) go on a second connection that waits for the OS only:
      // 500 callbacks a second cannot each wait for an fsync, and what a machine crash could
      // lose is recovered (a processing session settles from the journal; expiry runs again).
      const db = openSqliteDatabase(config.dataDir);
      const sessionsDb = openSqliteDatabase(config.dataDir, 'NORMAL');
      const sql = sqliteSql(sessionsDb);
      const close = async () => {
        await sql.close();
        sessionsDb.close();
        db.close();
      };
      return { journal: sqliteJournalOver(db, { ownsDatabase: false }), sql, close };
    }
    // Loaded only when used: the PostgreSQL driver costs memory a single-node service does not need.
    const { openPostgresPool, postgresJournalOver } = await import('./postgres-journal');
    const pool = await openPostgresPool(config.databaseUrl);
    const sql = postgresSql(pool);
    const close = async () => {
      await sql.close();
      await pool.end();
    };
    return { journal: postgresJournalOver(pool, { ownsPool: false }), sql, close };
  });
}

/** The journal alone (the CLIs). */
export async function openJournal(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<TransactionJournal> {
  return opening(config, async () => {
    if (!config.databaseUrl) return openSqliteJournal(config.dataDir);
    const { openPostgresJournal } = await import('./postgres-journal');
    return openPostgresJournal(config.databaseUrl);
  });
}

async function opening<T>(config: { databaseUrl?: string; dataDir: string }, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    // Driver messages can quote the connection string, password included: say only what failed.
    const where = config.databaseUrl ? 'the PostgreSQL database in DATABASE_URL' : `the SQLite journal in ${config.dataDir}`;
    const code = (error as NodeJS.ErrnoException).code;
    throw new StartupError(`Cannot open ${where}${code ? ` (${code})` : ''}`);
  }
}

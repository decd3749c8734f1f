import type { Config } from '../config/settings';
import { StartupError } from '../errors';
import type { TransactionJournal } from './journal';
import { openSqliteJournal } from './sqlite-journal';

/** PostgreSQL when DATABASE_URL is set (several replicas), else the embedded SQLite file under DATA_DIR. */
export async function openJournal(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<TransactionJournal> {
  try {
    if (!config.databaseUrl) return openSqliteJournal(config.dataDir);
    // Loaded only when used: the PostgreSQL driver costs memory a single-node service does not need.
    const { openPostgresJournal } = await import('./postgres-journal');
    return await openPostgresJournal(config.databaseUrl);
  } catch (error) {
    // Driver messages can quote the connection string, password included: say only what failed.
    const where = config.databaseUrl ? 'the PostgreSQL database in DATABASE_URL' : `the SQLite journal in ${config.dataDir}`;
    const code = (error as NodeJS.ErrnoException).code;
    throw new StartupError(`Cannot open ${where}${code ? ` (${code})` : ''}`);
  }
}

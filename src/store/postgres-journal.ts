import { Pool, type PoolClient } from 'pg';
import { MIGRATIONS } from './migrations';
import { instanceFromRow, orphanFromRow, recordFromRow, whereClause, type InstanceRow, type OrphanRow, type TransactionRow } from './rows';
import { ORPHAN_ERROR, type TransactionJournal, type TransactionKey } from './journal';

/** Any constant: serialises migrations of replicas that start at the same moment. */
const MIGRATION_LOCK = 7_203_001;

/**
 * The journal for several replicas: PostgreSQL, where the claim is one
 * INSERT ... ON CONFLICT DO NOTHING on the primary key, so no race is lost.
 */
export async function openPostgresJournal(connectionString: string): Promise<TransactionJournal> {
  return postgresJournalOver(await openPostgresPool(connectionString), { ownsPool: true });
}

/** A connection pool to DATABASE_URL, migrated: shared by the journal and the session store. */
export async function openPostgresPool(connectionString: string): Promise<Pool> {
  const pool = new Pool({ connectionString, max: 20, connectionTimeoutMillis: 5000 });
  // An idle client's error (database restart) must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  try {
    await migrate(pool);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return pool;
}

/** The journal over an open pool; closing it ends the pool only when it owns it. */
export function postgresJournalOver(pool: Pool, { ownsPool }: { ownsPool: boolean }): TransactionJournal {

  const get = async (key: TransactionKey) => {
    const result = await pool.query<TransactionRow>(
      'SELECT * FROM transactions WHERE connector = $1 AND account = $2 AND transaction_id = $3',
      [key.connector, key.account, key.transactionId],
    );
    return result.rows[0] ? recordFromRow(result.rows[0]) : undefined;
  };

  return {
    kind: 'postgres',
    async claim(claim, now) {
      const inserted = await pool.query(
        `INSERT INTO transactions (connector, account, transaction_id, method, tender, amount, currency, card_brand, last4,
                                   fingerprint, credential_hash, session_id, status, owner, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending', $13, $14, $14)
         ON CONFLICT (connector, account, transaction_id) DO NOTHING`,
        [claim.connector, claim.account, claim.transactionId, claim.method, claim.tender, claim.amount, claim.currency,
          claim.cardBrand, claim.last4, claim.fingerprint, claim.credentialHash, claim.sessionId, claim.owner, now],
      );
      if (inserted.rowCount === 1) return { claimed: true };
      const existing = await get(claim);
      if (!existing) throw new Error('journal record vanished between claim and read');
      return { claimed: false, existing };
    },
    async settle(key, settlement, now) {
      await pool.query(
        `UPDATE transactions
            SET status = $4, gateway_transaction_id = $5, error_code = $6, error_message = $7, gateway_ms = $8,
                answer_status = $9, answer_body = $10, updated_at = $11
          WHERE connector = $1 AND account = $2 AND transaction_id = $3 AND status = 'pending'`,
        [key.connector, key.account, key.transactionId, settlement.status, settlement.gatewayTransactionId, settlement.errorCode,
          settlement.errorMessage, settlement.gatewayMs, settlement.answer.httpStatus, settlement.answer.body, now],
      );
    },
    get,
    async find(query) {
      const where = whereClause(query, (index) => `$${index}`);
      const result = await pool.query<TransactionRow>(
        `SELECT * FROM transactions ${where.sql} ORDER BY created_at DESC, transaction_id LIMIT $${where.values.length + 1}`,
        [...where.values, query.limit ?? 1000],
      );
      return result.rows.map(recordFromRow);
    },
    async orphanPending(liveOwners, createdBefore, now) {
      const result = await pool.query<OrphanRow>(
        `UPDATE transactions SET status = 'unknown', error_code = $1, error_message = $2, updated_at = $3
          WHERE status = 'pending' AND created_at < $4 AND NOT (owner = ANY($5::text[]))
          RETURNING connector, account, transaction_id, owner`,
        [ORPHAN_ERROR.code, ORPHAN_ERROR.message, now, createdBefore, liveOwners],
      );
      return result.rows.map(orphanFromRow);
    },
    async prune(before) {
      const result = await pool.query(`DELETE FROM transactions WHERE created_at < $1 AND status <> 'pending'`, [before]);
      return result.rowCount ?? 0;
    },
    async registerInstance(instance) {
      await pool.query('INSERT INTO instances (id, host, pid, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5)', [
        instance.id,
        instance.host,
        instance.pid,
        instance.startedAt,
        instance.heartbeatAt,
      ]);
    },
    async heartbeat(instanceId, now) {
      await pool.query('UPDATE instances SET heartbeat_at = $1 WHERE id = $2', [now, instanceId]);
    },
    async instances() {
      const result = await pool.query<InstanceRow>('SELECT * FROM instances');
      return result.rows.map(instanceFromRow);
    },
    async removeInstances(ids) {
      await pool.query('DELETE FROM instances WHERE id = ANY($1::text[])', [ids]);
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      if (ownsPool) await pool.end();
    },
  };
}

async function migrate(pool: Pool): Promise<void> {
  const client: PoolClient = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((row) => row.version));
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.postgres);
      await client.query('INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.description,
        Date.now(),
      ]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { GroupCommit } from './group-commit';
import { MIGRATIONS } from './migrations';
import { instanceFromRow, orphanFromRow, recordFromRow, whereClause, type InstanceRow, type OrphanRow, type TransactionRow } from './rows';
import { ORPHAN_ERROR, type JournalQuery, type TransactionJournal } from './journal';

export const SQLITE_FILE = 'journal.sqlite';

/**
 * The embedded journal: one SQLite file under DATA_DIR, WAL mode, synchronous
 * FULL so that a claim is on disk before the gateway is called. Claims and
 * settlements of one event-loop turn share a transaction (group commit).
 */
export function openSqliteJournal(dataDir: string): TransactionJournal {
  return sqliteJournalOver(openSqliteDatabase(dataDir), { ownsDatabase: true });
}

/**
 * The SQLite file under DATA_DIR, migrated. `synchronous = FULL` (the journal's) makes every commit
 * wait for the disk; NORMAL (the sessions' connection) lets WAL commits wait only for the OS,
 * which a crash of the process does not lose, only one of the machine.
 */
export function openSqliteDatabase(dataDir: string, synchronous: 'FULL' | 'NORMAL' = 'FULL'): Database.Database {
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, SQLITE_FILE));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

/** The journal over an open database; closing it closes the database only when it owns it. */
export function sqliteJournalOver(db: Database.Database, { ownsDatabase }: { ownsDatabase: boolean }): TransactionJournal {

  const insertClaim = db.prepare(`
    INSERT INTO transactions (connector, account, transaction_id, method, tender, amount, currency, card_brand, last4,
                              fingerprint, credential_hash, session_id, status, owner, created_at, updated_at)
    VALUES (@connector, @account, @transactionId, @method, @tender, @amount, @currency, @cardBrand, @last4,
            @fingerprint, @credentialHash, @sessionId, 'pending', @owner, @now, @now)
    ON CONFLICT (connector, account, transaction_id) DO NOTHING`);
  const selectOne = db.prepare<[string, string, string], TransactionRow>(
    'SELECT * FROM transactions WHERE connector = ? AND account = ? AND transaction_id = ?',
  );
  const updateSettled = db.prepare(`
    UPDATE transactions
       SET status = @status, gateway_transaction_id = @gatewayTransactionId, error_code = @errorCode,
           error_message = @errorMessage, gateway_ms = @gatewayMs, answer_status = @answerStatus,
           answer_body = @answerBody, updated_at = @now
     WHERE connector = @connector AND account = @account AND transaction_id = @transactionId AND status = 'pending'`);
  const commits = new GroupCommit((writes) => db.transaction(writes)());

  return {
    kind: 'sqlite',
    async claim(claim, now) {
      return commits.run(() => {
        const inserted = insertClaim.run({ ...claim, now }).changes === 1;
        if (inserted) return { claimed: true as const };
        return { claimed: false as const, existing: recordFromRow(selectOne.get(claim.connector, claim.account, claim.transactionId)!) };
      });
    },
    async settle(key, settlement, now) {
      await commits.run(() =>
        updateSettled.run({
        ...key,
        status: settlement.status,
        gatewayTransactionId: settlement.gatewayTransactionId,
        errorCode: settlement.errorCode,
        errorMessage: settlement.errorMessage,
        gatewayMs: settlement.gatewayMs,
        answerStatus: settlement.answer.httpStatus,
        answerBody: settlement.answer.body,
        now,
      }),
      );
    },
    async get(key) {
      const row = selectOne.get(key.connector, key.account, key.transactionId);
      return row ? recordFromRow(row) : undefined;
    },
    async find(query: JournalQuery) {
      const where = whereClause(query, () => '?');
      const rows = db
        .prepare<Array<string | number>, TransactionRow>(`SELECT * FROM transactions ${where.sql} ORDER BY created_at DESC, transaction_id LIMIT ?`)
        .all(...where.values, query.limit ?? 1000);
      return rows.map(recordFromRow);
    },
    async orphanPending(liveOwners, createdBefore, now) {
      const marks = liveOwners.map(() => '?').join(', ');
      return db
        .prepare<Array<string | number>, OrphanRow>(
          `UPDATE transactions SET status = 'unknown', error_code = ?, error_message = ?, updated_at = ?
            WHERE status = 'pending' AND created_at < ? AND owner NOT IN (${marks})
            RETURNING connector, account, transaction_id, owner`,
        )
        .all(ORPHAN_ERROR.code, ORPHAN_ERROR.message, now, createdBefore, ...liveOwners)
        .map(orphanFromRow);
    },
    async prune(before) {
      return db.prepare(`DELETE FROM transactions WHERE created_at < ? AND status <> 'pending'`).run(before).changes;
    },
    async registerInstance(instance) {
      db.prepare('INSERT INTO instances (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)').run(
        instance.id,
        instance.host,
        instance.pid,
        instance.startedAt,
        instance.heartbeatAt,
      );
    },
    async heartbeat(instanceId, now) {
      db.prepare('UPDATE instances SET heartbeat_at = ? WHERE id = ?').run(now, instanceId);
    },
    async instances() {
      return db.prepare<[], InstanceRow>('SELECT * FROM instances').all().map(instanceFromRow);
    },
    async removeInstances(ids) {
      const remove = db.prepare('DELETE FROM instances WHERE id = ?');
      db.transaction(() => ids.forEach((id) => remove.run(id)))();
    },
    async ping() {
      db.prepare('SELECT 1').get();
    },
    async close() {
      if (ownsDatabase) db.close();
    },
  };
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set(db.prepare<[], { version: number }>('SELECT version FROM schema_migrations').all().map((row) => row.version));
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sqlite);
      db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.description,
        Date.now(),
      );
    })();
  }
}

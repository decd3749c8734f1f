/**
 * Schema migrations, versioned here and applied in order at start-up. Never edit
 * a released migration: add the next version.
 */
export interface Migration {
  version: number;
  description: string;
  sqlite: string;
  postgres: string;
}

const transactionsTable = (integer: string) => `
  CREATE TABLE transactions (
    connector              TEXT NOT NULL,
    account                TEXT NOT NULL,
    transaction_id         TEXT NOT NULL,
    method                 TEXT NOT NULL,
    tender                 TEXT NOT NULL,
    amount                 TEXT,
    currency               TEXT,
    card_brand             TEXT,
    last4                  TEXT,
    fingerprint            TEXT NOT NULL,
    status                 TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'error', 'unknown')),
    owner                  TEXT NOT NULL,
    gateway_transaction_id TEXT,
    error_code             TEXT,
    error_message          TEXT,
    gateway_ms             ${integer},
    answer_status          ${integer},
    answer_body            TEXT,
    created_at             ${integer} NOT NULL,
    updated_at             ${integer} NOT NULL,
    PRIMARY KEY (connector, account, transaction_id)
  );
  CREATE INDEX transactions_status_created ON transactions (status, created_at);
  CREATE INDEX transactions_created ON transactions (created_at);
  CREATE INDEX transactions_transaction_id ON transactions (transaction_id);
  CREATE INDEX transactions_owner_pending ON transactions (owner) WHERE status = 'pending';
  CREATE TABLE instances (
    id           TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          ${integer} NOT NULL,
    started_at   ${integer} NOT NULL,
    heartbeat_at ${integer} NOT NULL
  );
`;

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'transaction journal and service instances',
    sqlite: transactionsTable('INTEGER'),
    postgres: transactionsTable('BIGINT'),
  },
  {
    version: 2,
    description: 'keyed hash of the credentials that claimed each payment',
    // Records written before it have none, and are recognised as before (SECURITY.md).
    sqlite: 'ALTER TABLE transactions ADD COLUMN credential_hash TEXT',
    postgres: 'ALTER TABLE transactions ADD COLUMN credential_hash TEXT',
  },
];

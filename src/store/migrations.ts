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

/** Payment sessions (stage 2): the session, its history, and the webhooks owed to its API client. */
const sessionTables = (integer: string) => `
  CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL,
    type            TEXT NOT NULL,
    state           TEXT NOT NULL,
    call_sid        TEXT,
    reference       TEXT,
    version         ${integer} NOT NULL,
    resource        TEXT NOT NULL,
    internal        TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash    TEXT,
    expires_at      ${integer} NOT NULL,
    created_at      ${integer} NOT NULL,
    updated_at      ${integer} NOT NULL
  );
  CREATE UNIQUE INDEX sessions_idempotency ON sessions (client_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE UNIQUE INDEX sessions_one_active_per_call ON sessions (call_sid) WHERE call_sid IS NOT NULL AND state IN ('created', 'capturing', 'processing');
  CREATE INDEX sessions_client_created ON sessions (client_id, created_at);
  CREATE INDEX sessions_state_expires ON sessions (state, expires_at);
  CREATE TABLE session_history (
    session_id TEXT NOT NULL,
    version    ${integer} NOT NULL,
    at         ${integer} NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    state      TEXT NOT NULL,
    detail     TEXT,
    PRIMARY KEY (session_id, version)
  );
  CREATE TABLE webhook_outbox (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL,
    session_id      TEXT NOT NULL,
    sequence        ${integer} NOT NULL,
    type            TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        ${integer} NOT NULL,
    attempts_since  ${integer} NOT NULL,
    next_attempt_at ${integer} NOT NULL,
    last_error      TEXT,
    created_at      ${integer} NOT NULL,
    delivered_at    ${integer}
  );
  CREATE UNIQUE INDEX webhook_outbox_session_sequence ON webhook_outbox (session_id, sequence);
  CREATE INDEX webhook_outbox_pending ON webhook_outbox (next_attempt_at) WHERE status = 'pending';
  CREATE INDEX webhook_outbox_created ON webhook_outbox (created_at);
  CREATE INDEX webhook_outbox_delivered ON webhook_outbox (delivered_at) WHERE status = 'delivered';
  ALTER TABLE transactions ADD COLUMN session_id TEXT;
  CREATE INDEX transactions_session ON transactions (session_id) WHERE session_id IS NOT NULL;
`;

/**
 * Bearer links to a session (console_url, twiml_url, link_url, event-stream tickets): only a hash of
 * each token is kept, so the database never holds a working link.
 */
const sessionLinksTable = (integer: string) => `
  CREATE TABLE session_links (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    expires_at ${integer} NOT NULL,
    used_at    ${integer},
    created_at ${integer} NOT NULL
  );
  CREATE INDEX session_links_session ON session_links (session_id, purpose);
  CREATE INDEX session_links_expires ON session_links (expires_at);
`;

/** The payment page's last heartbeat plus 15 s: the sweeper finds the customers who have left by it. */
const presenceColumn = (integer: string) => `
  ALTER TABLE sessions ADD COLUMN presence_until ${integer};
  CREATE INDEX sessions_presence ON sessions (presence_until) WHERE presence_until IS NOT NULL;
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
  {
    version: 3,
    description: 'payment sessions, their history and the webhook outbox; the session a payment belongs to',
    sqlite: sessionTables('INTEGER'),
    postgres: sessionTables('BIGINT'),
  },
  {
    version: 4,
    description: 'bearer links to sessions, kept as hashes',
    sqlite: sessionLinksTable('INTEGER'),
    postgres: sessionLinksTable('BIGINT'),
  },
  {
    version: 5,
    description: "until when a digital session's customer counts as present on the payment page",
    sqlite: presenceColumn('INTEGER'),
    postgres: presenceColumn('BIGINT'),
  },
];

import type { PaymentMethod, Tender } from '../contract/payment-request';
import type { InstanceRecord, JournalRecord, JournalStatus, OrphanedClaim } from './journal';

/** A transactions row as both databases return it (PostgreSQL gives BIGINT as text). */
export interface TransactionRow {
  connector: string;
  account: string;
  transaction_id: string;
  method: string;
  tender: string;
  amount: string | null;
  currency: string | null;
  card_brand: string | null;
  last4: string | null;
  fingerprint: string;
  credential_hash: string | null;
  session_id?: string | null;
  status: string;
  owner: string;
  gateway_transaction_id: string | null;
  error_code: string | null;
  error_message: string | null;
  gateway_ms: number | string | null;
  answer_status: number | string | null;
  answer_body: string | null;
  created_at: number | string;
  updated_at: number | string;
}

export type OrphanRow = Pick<TransactionRow, 'connector' | 'account' | 'transaction_id' | 'owner'>;

export interface InstanceRow {
  id: string;
  host: string;
  pid: number | string;
  started_at: number | string;
  heartbeat_at: number | string;
}

const toNumber = (value: number | string | null): number | null => (value === null ? null : Number(value));

export function recordFromRow(row: TransactionRow): JournalRecord {
  return {
    connector: row.connector,
    account: row.account,
    transactionId: row.transaction_id,
    method: row.method as PaymentMethod,
    tender: row.tender as Tender,
    amount: row.amount,
    currency: row.currency,
    cardBrand: row.card_brand,
    last4: row.last4,
    fingerprint: row.fingerprint,
    credentialHash: row.credential_hash ?? null,
    sessionId: row.session_id ?? null,
    status: row.status as JournalStatus,
    owner: row.owner,
    gatewayTransactionId: row.gateway_transaction_id,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    gatewayMs: toNumber(row.gateway_ms),
    answer: row.answer_status === null || row.answer_body === null ? null : { httpStatus: Number(row.answer_status), body: row.answer_body },
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function orphanFromRow(row: OrphanRow): OrphanedClaim {
  return { connector: row.connector, account: row.account, transactionId: row.transaction_id, owner: row.owner };
}

export function instanceFromRow(row: InstanceRow): InstanceRecord {
  return { id: row.id, host: row.host, pid: Number(row.pid), startedAt: Number(row.started_at), heartbeatAt: Number(row.heartbeat_at) };
}

/** The WHERE clause of a journal query, with numbered ($1) or plain (?) placeholders. */
export function whereClause(
  query: { transactionId?: string; status?: string; connector?: string; since?: number; until?: number },
  placeholder: (index: number) => string,
): { sql: string; values: Array<string | number> } {
  const conditions: string[] = [];
  const values: Array<string | number> = [];
  const add = (column: string, operator: string, value: string | number | undefined) => {
    if (value === undefined) return;
    values.push(value);
    conditions.push(`${column} ${operator} ${placeholder(values.length)}`);
  };
  add('transaction_id', '=', query.transactionId);
  add('status', '=', query.status);
  add('connector', '=', query.connector);
  add('created_at', '>=', query.since);
  add('created_at', '<', query.until);
  return { sql: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', values };
}

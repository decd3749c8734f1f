import type { WireAnswer } from '../contract/connector-answer';
import type { PaymentMethod, Tender } from '../contract/payment-request';

export const JOURNAL_STATUSES = ['pending', 'approved', 'declined', 'error', 'unknown'] as const;
export type JournalStatus = (typeof JOURNAL_STATUSES)[number];

/** One payment attempt per (connector, gateway account, Twilio transaction_id). */
export interface TransactionKey {
  connector: string;
  /**
   * The gateway account, as the connector's mapping identifies it (`credentials.account`): the
   * Basic username, or a keyed hash (`key:...`) when the account is known by its secret.
   */
  account: string;
  transactionId: string;
}

/**
 * What the journal keeps of a payment. Never card, CVV, bank or routing numbers
 * or keys: only brand and last digits, and a fingerprint over non-sensitive fields.
 */
export interface JournalRecord extends TransactionKey {
  method: PaymentMethod;
  tender: Tender;
  amount: string | null;
  currency: string | null;
  cardBrand: string | null;
  /** Card last 4, or bank account last 2-4. */
  last4: string | null;
  /** Hash of method, tender, amount, currency, brand and last digits: tells a retry from a reuse. */
  fingerprint: string;
  /**
   * Keyed hash (CREDENTIAL_HASH_KEY) of the credentials that claimed it: a retry must bring the
   * same. Null for records written before it was kept.
   */
  credentialHash: string | null;
  /** The payment session (ps_...) this payment belongs to, when its request named one in `parameters`. */
  sessionId: string | null;
  status: JournalStatus;
  /** The service instance that claimed it (see instances.ts). */
  owner: string;
  gatewayTransactionId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  gatewayMs: number | null;
  /** The first answer, replayed byte for byte to every retry. */
  answer: WireAnswer | null;
  createdAt: number;
  updatedAt: number;
}

export type NewClaim = Omit<
  JournalRecord,
  'status' | 'gatewayTransactionId' | 'errorCode' | 'errorMessage' | 'gatewayMs' | 'answer' | 'createdAt' | 'updatedAt'
>;

/** How a claimed payment ended. */
export interface Settlement {
  status: Exclude<JournalStatus, 'pending'>;
  gatewayTransactionId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  gatewayMs: number | null;
  answer: WireAnswer;
}

export type ClaimResult = { claimed: true } | { claimed: false; existing: JournalRecord };

export interface JournalQuery {
  transactionId?: string;
  status?: JournalStatus;
  connector?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  limit?: number;
}

/** A payment a stopped instance left in flight, now `unknown`: what an operator needs to reconcile it. */
export interface OrphanedClaim {
  connector: string;
  account: string;
  transactionId: string;
  /** The instance that claimed it. */
  owner: string;
}

export interface InstanceRecord {
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  heartbeatAt: number;
}

/**
 * The durable journal. Two implementations (SQLite, PostgreSQL) pass one shared
 * test suite (test/store/journal-contract.ts).
 */
export interface TransactionJournal {
  readonly kind: 'sqlite' | 'postgres';
  /** Writes a `pending` record unless the key exists; atomic across processes sharing the database. */
  claim(claim: NewClaim, now: number): Promise<ClaimResult>;
  /** Records how a pending payment ended. A record that is no longer pending is left as it is. */
  settle(key: TransactionKey, settlement: Settlement, now: number): Promise<void>;
  get(key: TransactionKey): Promise<JournalRecord | undefined>;
  find(query: JournalQuery): Promise<JournalRecord[]>;
  /**
   * Pending records created before `createdBefore` whose owner is not among the
   * live instances become `unknown`; returns which.
   */
  orphanPending(liveOwners: string[], createdBefore: number, now: number): Promise<OrphanedClaim[]>;
  /** Deletes settled records created before `before`; returns how many. */
  prune(before: number): Promise<number>;

  registerInstance(instance: InstanceRecord): Promise<void>;
  heartbeat(instanceId: string, now: number): Promise<void>;
  instances(): Promise<InstanceRecord[]>;
  removeInstances(ids: string[]): Promise<void>;

  /** Resolves when the database answers a trivial query (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function keyString(key: TransactionKey): string {
  return JSON.stringify([key.connector, key.account, key.transactionId]);
}

export const ORPHAN_ERROR = {
  code: 'OUTCOME_UNKNOWN',
  message: 'The service stopped while the gateway call was in flight; reconcile this payment with the gateway',
} as const;

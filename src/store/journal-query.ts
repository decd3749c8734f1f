import { createAjv, describeAjvError } from '../ajv';
import { InvalidQuery } from '../errors';
import { JOURNAL_STATUSES, type JournalQuery, type JournalRecord } from './journal';

/** Filters for listing journal records, shared by GET /transactions and `npm run journal`. */
export const journalQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    transaction_id: { type: 'string', minLength: 1, maxLength: 255 },
    status: { enum: [...JOURNAL_STATUSES] },
    connector: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' },
    since: { type: 'string', anyOf: [{ format: 'date' }, { format: 'date-time' }] },
    until: { type: 'string', anyOf: [{ format: 'date' }, { format: 'date-time' }] },
    limit: { type: 'integer', minimum: 1, maximum: 10000 },
  },
} as const;

const validate = createAjv({ coerceTypes: true, allErrors: false }).compile(journalQuerySchema);

/** `since`/`until` are dates (2026-11-01, UTC midnight) or ISO date-times. */
export function parseJournalQuery(params: Record<string, string | number | undefined>): JournalQuery {
  const given = Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
  if (!validate(given)) throw new InvalidQuery(`Invalid query: ${(validate.errors ?? []).map(describeAjvError).join('; ')}`);
  const query = given as { transaction_id?: string; status?: JournalQuery['status']; connector?: string; since?: string; until?: string; limit?: number };
  return {
    transactionId: query.transaction_id,
    status: query.status,
    connector: query.connector,
    since: instant('since', query.since),
    until: instant('until', query.until),
    limit: query.limit,
  };
}

/**
 * Epoch ms of a date or date-time that passed the format check. ajv's date-time format also
 * admits a leap second (23:59:60) and an offset of hours only (+01), which Date.parse reads as
 * NaN: SQLite then matched nothing and PostgreSQL refused the query (a 500). Refused here, so
 * GET /transactions and `npm run journal` both answer INVALID_QUERY.
 */
function instant(name: 'since' | 'until', text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const time = Date.parse(text);
  if (!Number.isFinite(time)) {
    throw new InvalidQuery(`Invalid query: ${name}: must be a date or date-time with seconds up to 59 and an offset as Z or +hh:mm`);
  }
  return time;
}

/** A journal record as the API and the CLI show it: no fingerprint, owner or stored answer. */
export function presentRecord(record: JournalRecord) {
  return {
    transaction_id: record.transactionId,
    connector: record.connector,
    account: record.account,
    status: record.status,
    method: record.method,
    tender: record.tender,
    amount: record.amount,
    currency: record.currency,
    card_brand: record.cardBrand,
    last4: record.last4,
    gateway_transaction_id: record.gatewayTransactionId,
    error_code: record.errorCode,
    error_message: record.errorMessage,
    gateway_ms: record.gatewayMs,
    created_at: new Date(record.createdAt).toISOString(),
    updated_at: new Date(record.updatedAt).toISOString(),
  };
}

export type PresentedRecord = ReturnType<typeof presentRecord>;

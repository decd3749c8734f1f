import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type Request, type RequestHandler } from 'express';
import { createAjv, describeAjvError } from '../ajv';
import { InvalidQuery, NotFound, Unauthorized } from '../errors';
import { JOURNAL_STATUSES, type JournalQuery, type JournalRecord, type TransactionJournal } from '../store/journal';
import { contextOf } from './request-context';

/** The query of GET /transactions, as a JSON Schema. */
export const transactionsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { enum: [...JOURNAL_STATUSES] },
    connector: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' },
    since: { type: 'string', anyOf: [{ format: 'date' }, { format: 'date-time' }] },
    until: { type: 'string', anyOf: [{ format: 'date' }, { format: 'date-time' }] },
    limit: { type: 'integer', minimum: 1, maximum: 1000 },
  },
} as const;

const validateQuery = createAjv({ coerceTypes: true, allErrors: false }).compile(transactionsQuerySchema);

/**
 * Reconciliation: journal records by transaction_id, or filtered. Mounted only
 * when ADMIN_TOKEN is set; the token is compared in constant time.
 */
export function transactionsRoutes(journal: TransactionJournal, adminToken: string): Router {
  const router = Router();
  const expected = digest(adminToken);
  const authorized: RequestHandler = (req, res, next) => {
    contextOf(res).route = (req.route as { path?: string } | undefined)?.path ?? '/transactions';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) throw new Unauthorized('A valid admin Bearer token is required');
    next();
  };

  router.get('/transactions', authorized, async (req, res) => {
    res.json({ records: (await journal.find(readQuery(req))).map(present) });
  });
  router.get('/transactions/:transaction_id', authorized, async (req, res) => {
    const records = await journal.find({ transactionId: req.params.transaction_id as string });
    if (records.length === 0) throw new NotFound('No journal record with that transaction_id');
    res.json({ records: records.map(present) });
  });
  return router;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function readQuery(req: Request): JournalQuery {
  const params = Object.fromEntries(new URL(req.originalUrl, 'http://local').searchParams);
  if (!validateQuery(params)) {
    throw new InvalidQuery(`Invalid query: ${(validateQuery.errors ?? []).map(describeAjvError).join('; ')}`);
  }
  const query = params as { status?: JournalQuery['status']; connector?: string; since?: string; until?: string; limit?: number };
  return {
    status: query.status,
    connector: query.connector,
    since: query.since === undefined ? undefined : Date.parse(query.since),
    until: query.until === undefined ? undefined : Date.parse(query.until),
    limit: query.limit,
  };
}

/** A journal record as the API and the CLI show it. */
export function present(record: JournalRecord) {
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

import { Router, type RequestHandler } from 'express';
import { NotFound, Unauthorized } from '../errors';
import type { TransactionJournal } from '../store/journal';
import { parseJournalQuery, presentRecord } from '../store/journal-query';
import { bearerTokenCheck } from './bearer-token';
import { contextOf } from './request-context';

/**
 * Reconciliation: journal records by transaction_id, or filtered. Mounted only
 * when ADMIN_TOKEN is set; the token is compared in constant time.
 */
export function transactionsRoutes(journal: TransactionJournal, adminToken: string): Router {
  const router = Router();
  const hasAdminToken = bearerTokenCheck(adminToken);
  const authorized: RequestHandler = (req, res, next) => {
    const context = contextOf(res);
    context.route = (req.route as { path?: string } | undefined)?.path ?? '/transactions';
    context.bearerRealm = 'transactions';
    if (!hasAdminToken(req)) throw new Unauthorized('A valid admin Bearer token is required');
    next();
  };

  router.get('/transactions', authorized, async (req, res) => {
    const params = Object.fromEntries(new URL(req.originalUrl, 'http://local').searchParams);
    res.json({ records: (await journal.find(parseJournalQuery(params))).map(presentRecord) });
  });
  router.get('/transactions/:transaction_id', authorized, async (req, res) => {
    const records = await journal.find({ transactionId: req.params.transaction_id as string });
    if (records.length === 0) throw new NotFound('No journal record with that transaction_id');
    res.json({ records: records.map(presentRecord) });
  });
  return router;
}

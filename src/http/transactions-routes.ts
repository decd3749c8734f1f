import { Router, type RequestHandler } from 'express';
import { NotFound } from '../errors';
import type { TransactionJournal } from '../store/journal';
import { parseJournalQuery, presentRecord } from '../store/journal-query';
import type { AuthThrottle } from './auth-throttle';
import { bearerAuthentication } from './bearer-token';
import { contextOf } from './request-context';

/**
 * Reconciliation: journal records by transaction_id, or filtered. Mounted only
 * when ADMIN_TOKEN is set; the token is compared in constant time.
 */
export function transactionsRoutes(journal: TransactionJournal, adminToken: string, throttle: AuthThrottle): Router {
  const router = Router();
  const named: RequestHandler = (req, res, next) => {
    contextOf(res).route = (req.route as { path?: string } | undefined)?.path ?? '/transactions';
    next();
  };
  const authenticate = bearerAuthentication(adminToken, 'transactions', throttle);

  router.get('/transactions', named, authenticate, async (req, res) => {
    const params = Object.fromEntries(new URL(req.originalUrl, 'http://local').searchParams);
    res.json({ records: (await journal.find(parseJournalQuery(params))).map(presentRecord) });
  });
  router.get('/transactions/:transaction_id', named, authenticate, async (req, res) => {
    const records = await journal.find({ transactionId: req.params.transaction_id as string });
    if (records.length === 0) throw new NotFound('No journal record with that transaction_id');
    res.json({ records: records.map(presentRecord) });
  });
  return router;
}

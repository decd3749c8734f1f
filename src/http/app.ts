import express, { type Express } from 'express';
import { NotFound } from '../errors';
import type { Logger } from '../logging/logger';
import type { ConnectorCatalog } from '../mapping/connectors';
import type { PaymentDependencies } from '../payments/take-payment';
import { answerErrors } from './answer-error';
import { requestLog } from './request-log';
import { connectorRoutes } from './routes';
import { transactionsRoutes } from './transactions-routes';
import type { Config } from '../config';
import type { TransactionJournal } from '../store/journal';

export function createApp(
  catalog: ConnectorCatalog,
  deps: PaymentDependencies,
  journal: TransactionJournal,
  config: Pick<Config, 'adminToken' | 'allowedAccounts' | 'trustProxy' | 'bodyLimitBytes'>,
  logger: Logger,
): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', false);
  app.set('trust proxy', config.trustProxy);

  app.use(requestLog(logger));
  app.use(connectorRoutes(catalog, deps, { allowedAccounts: config.allowedAccounts, bodyLimitBytes: config.bodyLimitBytes }));
  if (config.adminToken) app.use(transactionsRoutes(journal, config.adminToken));
  app.use(() => {
    throw new NotFound('No such path; POST / or /connectors/{name}');
  });
  app.use(answerErrors(logger));
  return app;
}

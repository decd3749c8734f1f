import express, { type Express } from 'express';
import { NotFound } from '../errors';
import type { Logger } from '../logging/logger';
import type { ConnectorCatalog } from '../mapping/connectors';
import type { PaymentDependencies } from '../payments/take-payment';
import { answerErrors } from './answer-error';
import { requestLog } from './request-log';
import type { Metrics } from '../observability/metrics';
import { operationsRoutes } from './operations-routes';
import { connectorRoutes } from './routes';
import { transactionsRoutes } from './transactions-routes';
import type { Config } from '../config';
import type { TransactionJournal } from '../store/journal';

export interface AppParts {
  catalog: ConnectorCatalog;
  payments: PaymentDependencies;
  journal: TransactionJournal;
  metrics: Metrics;
  sandboxUrl?: string;
  config: Pick<Config, 'adminToken' | 'allowedAccounts' | 'trustProxy' | 'bodyLimitBytes' | 'metricsToken' | 'gatewayEnv'>;
  logger: Logger;
}

export function createApp({ catalog, payments, journal, metrics, sandboxUrl, config, logger }: AppParts): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', false);
  app.set('trust proxy', config.trustProxy);

  app.use(requestLog(logger, metrics));
  // /openapi.json describes GET /transactions only where it is mounted (below).
  const transactionsApi = Boolean(config.adminToken);
  app.use(operationsRoutes({ catalog, journal, metrics, sandboxUrl, gatewayEnv: config.gatewayEnv, metricsToken: config.metricsToken, transactionsApi }));
  app.use(connectorRoutes(catalog, payments, { allowedAccounts: config.allowedAccounts, bodyLimitBytes: config.bodyLimitBytes }));
  if (config.adminToken) app.use(transactionsRoutes(journal, config.adminToken));
  app.use(() => {
    throw new NotFound('No such path; POST / or /connectors/{name}');
  });
  app.use(answerErrors(logger));
  return app;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import express, { type Express } from 'express';
import proxyAddress from 'proxy-addr';
import { NotFound } from '../errors';
import type { Logger } from '../logging/logger';
import type { ConnectorCatalog } from '../mapping/connectors';
import type { PaymentDependencies } from '../payments/take-payment';
import type { KeyedHash } from '../security/keyed-hash';
import { Admission } from './admission';
import { answerErrors } from './answer-error';
import { AuthThrottle } from './auth-throttle';
import type { SessionParts } from '../service-parts';
import { apiClientOf, clientAuthentication } from './client-authentication';
import { oauthRoutes } from './oauth-routes';
import { sessionRoutes } from './session-routes';
import { consoleRoutes } from './console-routes';
import { twilioCallbackRoutes } from './twilio-callback-routes';
import { payRoutes } from './pay-routes';
import { webhookAdminRoutes } from './webhook-admin-routes';
import { requestLog } from './request-log';
import type { Metrics } from '../observability/metrics';
import { operationsRoutes } from './operations-routes';
import { connectorEndpoint, connectorPaths } from './routes';
import { transactionsRoutes } from './transactions-routes';
import type { Config } from '../config/settings';
import type { TransactionJournal } from '../store/journal';

export interface AppParts {
  catalog: ConnectorCatalog;
  payments: PaymentDependencies;
  journal: TransactionJournal;
  metrics: Metrics;
  sandboxUrl?: string;
  /** Keyed hash of gateway credentials (CREDENTIAL_HASH_KEY). */
  credentialHash: KeyedHash;
  /** The session API's parts, when it is on. */
  sessions?: SessionParts;
  config: Pick<
    Config,
    | 'adminToken'
    | 'allowedAccounts'
    | 'trustProxy'
    | 'bodyLimitBytes'
    | 'metricsToken'
    | 'merchantName'
    | 'payPageRequestsPerMinute'
    | 'gatewayEnv'
    | 'bodyTimeoutMs'
    | 'maxUnauthenticatedConnections'
    | 'maxUnauthenticatedPerAddress'
  >;
  logger: Logger;
}

export interface App {
  /** Every route but the payment route. */
  app: Express;
  /** The server's request listener: a payment to the connector endpoint, anything else to Express. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The HTTP server's 'connection' listener: the unauthenticated limits start with the connection. */
  acceptConnection(socket: Socket): void;
}

export function createApp({ catalog, payments, journal, metrics, sandboxUrl, credentialHash, sessions, config, logger }: AppParts): App {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', false);
  app.set('trust proxy', config.trustProxy);
  const trustProxy = app.get('trust proxy fn') as (address: string, hop: number) => boolean;

  const throttle = new AuthThrottle();
  const admission = new Admission({
    maxUnauthenticated: config.maxUnauthenticatedConnections,
    maxUnauthenticatedPerAddress: config.maxUnauthenticatedPerAddress,
    bodyTimeoutMs: config.bodyTimeoutMs,
    isTrustedProxy: (address) => trustProxy(address, 0),
    throttle,
    metrics,
    logger,
  });
  app.use(admission.dropRefused);
  app.use(requestLog(logger, metrics));
  app.use(admission.middleware());
  // /openapi.json describes GET /transactions only where it is mounted (below).
  const transactionsApi = Boolean(config.adminToken);
  app.use(
    operationsRoutes({
      catalog,
      journal,
      metrics,
      sandboxUrl,
      gatewayEnv: config.gatewayEnv,
      metricsToken: config.metricsToken,
      transactionsApi,
      sessionsApi: sessions !== undefined,
      throttle,
    }),
  );
  app.use(connectorPaths());
  if (config.adminToken) app.use(transactionsRoutes(journal, config.adminToken, throttle));
  if (sessions) {
    app.use(oauthRoutes({ clients: sessions.clients, tokens: sessions.tokens, throttle, logger }));
    app.use(
      sessionRoutes({
        sessions: sessions.sessions,
        ivr: sessions.ivr,
        digital: sessions.digital,
        events: sessions.events,
        requireScope: clientAuthentication({ tokens: sessions.tokens, throttle }),
        clientIdOf: (res) => apiClientOf(res).clientId,
        maxStreamsPerClient: sessions.maxStreamsPerClient,
        logger,
        consoleLink: (sessionId) => sessions.console.access.link(sessionId),
      }),
    );
    app.use(
      consoleRoutes({
        sessions: sessions.sessions,
        digital: sessions.digital,
        events: sessions.events,
        access: sessions.console.access,
        users: sessions.console.users,
        tokens: sessions.console.tokens,
        clients: sessions.clients,
        throttle,
        signingKey: sessions.console.signingKey,
        publicUrl: sessions.publicUrl,
        frameAncestors: sessions.console.frameAncestors,
        connectors: sessions.console.connectors,
        maxStreamsPerClient: sessions.maxStreamsPerClient,
        logger,
      }),
    );
    app.use(
      payRoutes({
        digital: sessions.digital,
        merchantName: config.merchantName,
        testPayments: config.gatewayEnv !== 'production',
        signingKey: sessions.console.signingKey,
        publicUrl: sessions.publicUrl,
        requestsPerMinute: config.payPageRequestsPerMinute,
        logger,
      }),
    );
    app.use(twilioCallbackRoutes({ sessions: sessions.sessions, ivr: sessions.ivr, digital: sessions.digital, authToken: sessions.twilioAuthToken, publicUrl: sessions.publicUrl, logger }));
    if (config.adminToken) app.use(webhookAdminRoutes(sessions.outbox, config.adminToken, throttle));
  }
  app.use(() => {
    throw new NotFound('No such path; POST / or /connectors/{name}');
  });
  app.use(answerErrors(logger));

  const payment = connectorEndpoint({
    payments,
    catalog,
    throttle,
    credentialHash,
    allowedAccounts: config.allowedAccounts,
    bodyLimitBytes: config.bodyLimitBytes,
    admission,
    peerAddress: (req) => proxyAddress(req, trustProxy),
    metrics,
    logger,
  });
  return {
    app,
    handle: (req, res) => {
      if (!payment(req, res)) app(req, res);
    },
    acceptConnection: admission.connection,
  };
}

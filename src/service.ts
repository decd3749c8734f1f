import http from 'node:http';
import type { Express } from 'express';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Config } from './config/settings';
import { createGatewayClient } from './gateway/gateway-client';
import { createApp } from './http/app';
import { answerClientErrors } from './http/client-errors';
import { createMetrics } from './observability/metrics';
import { createLogger, describeUnexpected, type Logger } from './logging/logger';
import { compileMappings, connectorCatalog } from './mapping/connectors';
import { startSandboxGateway, type SandboxGateway } from './sandbox/sandbox-server';
import { IdempotencyGate } from './store/idempotency';
import { InstanceKeeper, thisInstance } from './store/instances';
import { openJournal } from './store/open-journal';
import { JournalPruner } from './store/pruner';
import { credentialHashFor } from './security/service-keys';

export interface RunningService {
  /** The Express application (for tests that inspect its routes). */
  app: Express;
  /** Base URL of the connector endpoint, e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  config: Config;
  /** Base URL of the embedded sandbox gateway, when it runs. */
  sandboxUrl?: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Environment to read the configuration from (default: the process's). */
  env?: Record<string, string | undefined>;
  logger?: Logger;
}

/** A duplicate waits for the first request's gateway call, plus this, before TRANSACTION_IN_PROGRESS. */
const WAIT_MARGIN_MS = 5_000;
/** Duplicates waiting at once (Twilio sends at most 5 retries of one transaction_id). */
const WAITERS = { perKey: 100, perAccount: 200, inAll: 1000 };

/**
 * Validates the configuration and every mapping file, opens the journal (turning
 * payments left pending by a crashed run into `unknown`), starts the embedded
 * sandbox gateway when GATEWAY_ENV=sandbox needs it, and listens. Any problem
 * throws a StartupError before a port is opened.
 */
export async function start(options: StartOptions = {}): Promise<RunningService> {
  const config = loadConfig(options.env);
  const logger = options.logger ?? createLogger(config.logLevel);
  const mappings = compileMappings(config);
  const credentialHash = credentialHashFor(config);
  if (config.databaseUrl && !config.credentialHashKey) {
    logger.warn('CREDENTIAL_HASH_KEY is generated in DATA_DIR: replicas sharing the journal must share it too, or retries reaching another replica are refused; set CREDENTIAL_HASH_KEY');
  }

  const journal = await openJournal(config);
  const reportJournalError = (error: unknown) => logger.error('journal error', describeUnexpected(error));
  const metrics = createMetrics();
  const keeper = new InstanceKeeper(journal, thisInstance(), reportJournalError, (count) => metrics.paymentsOrphaned(count));
  const orphaned = await keeper.start();
  if (orphaned > 0) logger.warn('payments left in flight by a stopped instance are now unknown: reconcile them', { count: orphaned });
  const pruner = new JournalPruner(journal, config.retentionDays, reportJournalError);
  await pruner.start();
  const gate = new IdempotencyGate(
    journal,
    keeper,
    {
      waitLimitMs: config.gatewayTimeoutMs + WAIT_MARGIN_MS,
      maxWaitersPerKey: WAITERS.perKey,
      maxWaitersPerAccount: WAITERS.perAccount,
      maxWaiters: WAITERS.inAll,
      pollMs: 250,
    },
    reportJournalError,
  );

  const sandbox: SandboxGateway | undefined = mappings.needsEmbeddedSandbox ? await startSandboxGateway() : undefined;
  const catalog = connectorCatalog(config, mappings, sandbox?.url);
  const gateway = createGatewayClient({ timeoutMs: config.gatewayTimeoutMs });
  const { app, acceptConnection } = createApp({
    catalog,
    payments: { gateway, gate, instanceId: keeper.me.id, logger },
    journal,
    metrics,
    sandboxUrl: sandbox?.url,
    credentialHash,
    config,
    logger,
  });

  // Once stopping, every answer closes its connection, so that a keep-alive client cannot
  // send another request on it that the shutdown deadline would cut.
  let draining = false;
  const unanswered = new Set<http.ServerResponse>();
  const serve = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (draining) res.setHeader('Connection', 'close');
    unanswered.add(res);
    res.once('close', () => unanswered.delete(res));
    app(req, res);
  };
  // Twilio sends one small request at once: a client that trickles it is cut (slow loris), and a
  // head larger than Twilio's could need is refused.
  const server = http.createServer(
    {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: 1000,
      maxHeaderSize: config.maxHeaderBytes,
    },
    serve,
  );
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  server.on('connection', acceptConnection);
  server.on('clientError', answerClientErrors(logger));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, resolve);
    });
  } catch (error) {
    gateway.close();
    await sandbox?.stop();
    pruner.stop();
    await keeper.stop();
    await journal.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;

  if (config.gatewayEnv === 'sandbox') {
    logger.warn('SANDBOX MODE: no real payments. Gateways are simulated; set GATEWAY_ENV=certification or production for real ones', {
      sandbox_url: sandbox?.url,
    });
  }
  for (const connector of catalog.list()) {
    logger.info('connector loaded', {
      connector: connector.name,
      title: connector.mapping.title,
      endpoint: connector.endpoint,
      endpoint_from: connector.endpointFrom,
      default: connector.name === config.defaultConnector,
    });
  }
  logger.info('listening', {
    host: config.host,
    port,
    gateway_env: config.gatewayEnv,
    gateway_timeout_ms: config.gatewayTimeoutMs,
    journal: journal.kind,
  });

  let stopping: Promise<void> | undefined;
  return {
    app,
    url: `http://${host}:${port}`,
    port,
    config,
    sandboxUrl: sandbox?.url,
    stop() {
      stopping ??= (async () => {
        // Stop accepting; answer what was accepted, for as long as a gateway call may take.
        draining = true;
        for (const res of unanswered) if (!res.headersSent) res.setHeader('Connection', 'close');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const deadline = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
        await closed;
        clearTimeout(deadline);
        // Gateway calls whose client went away still run: record their outcome before closing.
        await gate.drain();
        gateway.close();
        await sandbox?.stop();
        pruner.stop();
        await keeper.stop().catch(reportJournalError);
        await journal.close();
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}


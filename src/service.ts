import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Express } from 'express';
import { loadConfig, type Config } from './config/settings';
import { createApp } from './http/app';
import { answerClientErrors } from './http/client-errors';
import { createLogger, type Logger } from './logging/logger';
import { composeService, type ComposeOptions, type ServiceParts } from './service-parts';

export interface RunningService {
  /** The Express application: every route but the payment route (for tests that inspect its routes). */
  app: Express;
  /** Base URL of the connector endpoint, e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  config: Config;
  /** Base URL of the embedded sandbox gateway, when it runs. */
  sandboxUrl?: string;
  stop(): Promise<void>;
}

export interface StartOptions extends ComposeOptions {
  /** Environment to read the configuration from (default: the process's). */
  env?: Record<string, string | undefined>;
  logger?: Logger;
}

/**
 * Composes the service (service-parts.ts), puts its HTTP entry points in front and listens. Any
 * problem throws before a port is opened, after whatever had started is torn down again.
 */
export async function start(options: StartOptions = {}): Promise<RunningService> {
  const config = loadConfig(options.env);
  const logger = options.logger ?? createLogger(config.logLevel);
  const parts = await composeService(config, logger, { gatewayClient: options.gatewayClient });
  const { app, handle, acceptConnection } = createApp({ ...parts, config, logger });
  let listening: Listening;
  try {
    listening = await listen(handle, acceptConnection, config, logger);
  } catch (error) {
    await parts.teardown();
    throw error;
  }
  announce(parts, listening.port);

  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  let stopping: Promise<void> | undefined;
  return {
    app,
    url: `http://${host}:${listening.port}`,
    port: listening.port,
    config,
    sandboxUrl: parts.sandboxUrl,
    stop() {
      stopping ??= (async () => {
        await listening.close();
        await parts.teardown();
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}

interface Listening {
  port: number;
  /** Stops accepting, and answers what was accepted for up to SHUTDOWN_TIMEOUT_MS. */
  close(): Promise<void>;
}

/**
 * The HTTP server: Twilio sends one small request at once, so a client that trickles it is cut
 * (slow loris) and a head larger than Twilio's could need is refused.
 */
async function listen(
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  acceptConnection: (socket: Socket) => void,
  config: Config,
  logger: Logger,
): Promise<Listening> {
  // Once stopping, every answer closes its connection, so that a keep-alive client cannot
  // send another request on it that the shutdown deadline would cut.
  let draining = false;
  const unanswered = new Set<http.ServerResponse>();
  const server = http.createServer(
    {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: 1000,
      maxHeaderSize: config.maxHeaderBytes,
    },
    (req, res) => {
      if (draining) res.setHeader('Connection', 'close');
      unanswered.add(res);
      res.once('close', () => unanswered.delete(res));
      handle(req, res);
    },
  );
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  server.on('connection', acceptConnection);
  server.on('clientError', answerClientErrors(logger));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      draining = true;
      for (const res of unanswered) if (!res.headersSent) res.setHeader('Connection', 'close');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
      await closed;
      clearTimeout(deadline);
    },
  };
}

/** What an operator reads first: the mode, each connector and where it sends payments, the port. */
function announce({ config, logger, catalog, journal, sandboxUrl }: ServiceParts, port: number): void {
  if (config.gatewayEnv === 'sandbox') {
    logger.warn('SANDBOX MODE: no real payments. Gateways are simulated; set GATEWAY_ENV=certification or production for real ones', {
      sandbox_url: sandboxUrl,
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
}

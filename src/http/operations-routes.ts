import net from 'node:net';
import { Router, type RequestHandler } from 'express';
import axios from 'axios';
import type { GatewayEnvironment } from '../config/settings';
import type { ConnectorCatalog } from '../mapping/connectors';
import type { Metrics } from '../observability/metrics';
import type { TransactionJournal } from '../store/journal';
import type { AuthThrottle } from './auth-throttle';
import { bearerAuthentication } from './bearer-token';
import { openApiDocument } from './openapi';
import { contextOf } from './request-context';

export interface OperationsOptions {
  catalog: ConnectorCatalog;
  journal: TransactionJournal;
  metrics: Metrics;
  /** The embedded sandbox, checked by /readyz in sandbox mode. */
  sandboxUrl?: string;
  /**
   * In sandbox mode /readyz also checks that every gateway set with GATEWAY_URL_<NAME> (such
   * as the compose file's sandbox container) accepts connections.
   */
  gatewayEnv?: GatewayEnvironment;
  metricsToken?: string;
  /** GET /transactions is mounted (ADMIN_TOKEN is set), so /openapi.json describes it. */
  transactionsApi?: boolean;
  /** The session API is served: /openapi.json describes it. */
  sessionsApi?: boolean;
  throttle: AuthThrottle;
}

const READY_CHECK_TIMEOUT_MS = 2000;
/** A gateway that takes longer than this to accept a connection is not ready. */
const GATEWAY_CONNECT_TIMEOUT_MS = 1000;

type CheckResult = 'ok' | 'failing';

/**
 * /healthz, /readyz, /metrics and /openapi.json. None needs the payment
 * credentials; none says where the gateways are or how the service is configured.
 */
export function operationsRoutes(options: OperationsOptions): Router {
  const router = Router();
  const document = openApiDocument({ transactionsApi: options.transactionsApi ?? false, sessionsApi: options.sessionsApi ?? false });
  const metricsAuthentication: RequestHandler = options.metricsToken
    ? bearerAuthentication(options.metricsToken, 'metrics', options.throttle)
    : (_req, res, next) => {
        contextOf(res).bearerRealm = 'metrics';
        next();
      };

  router.get('/healthz', (_req, res) => {
    contextOf(res).route = '/healthz';
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    contextOf(res).route = '/readyz';
    const connectors = options.catalog.list();
    // Named by what is checked, never by where it is: the answer reveals no URL.
    const pending: Array<[string, Promise<CheckResult>]> = [['journal', withinTime(options.journal.ping())]];
    if (options.sandboxUrl) {
      pending.push(['sandbox', withinTime(axios.get(`${options.sandboxUrl}/healthz`, { timeout: READY_CHECK_TIMEOUT_MS, proxy: false }))]);
    }
    if (options.gatewayEnv === 'sandbox') {
      for (const connector of connectors.filter((c) => c.endpointFrom === 'override')) {
        pending.push([`gateway:${connector.name}`, withinTime(acceptsConnections(connector.endpoint))]);
      }
    }
    const checks: Record<string, CheckResult> = { mappings: connectors.length > 0 ? 'ok' : 'failing' };
    for (const [name, result] of await Promise.all(pending.map(async ([name, check]) => [name, await check] as const))) checks[name] = result;
    const ready = Object.values(checks).every((check) => check === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });

  const named: RequestHandler = (_req, res, next) => {
    contextOf(res).route = '/metrics';
    next();
  };
  router.get('/metrics', named, metricsAuthentication, async (_req, res) => {
    res.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });

  router.get('/openapi.json', (_req, res) => {
    contextOf(res).route = '/openapi.json';
    res.json(document);
  });
  return router;
}

async function withinTime(check: Promise<unknown>): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), READY_CHECK_TIMEOUT_MS)));
  try {
    await Promise.race([check, late]);
    return 'ok';
  } catch {
    return 'failing';
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once the endpoint's host accepts a TCP connection (closed at once, nothing sent). */
function acceptsConnections(endpoint: string): Promise<void> {
  const url = new URL(endpoint);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: GATEWAY_CONNECT_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error('connect timeout'));
    });
    socket.once('error', (error) => {
      socket.destroy();
      reject(error);
    });
  });
}

import { Router } from 'express';
import axios from 'axios';
import { Unauthorized } from '../errors';
import type { ConnectorCatalog } from '../mapping/connectors';
import type { Metrics } from '../observability/metrics';
import type { TransactionJournal } from '../store/journal';
import { bearerTokenCheck } from './bearer-token';
import { openApiDocument } from './openapi';
import { contextOf } from './request-context';

export interface OperationsOptions {
  catalog: ConnectorCatalog;
  journal: TransactionJournal;
  metrics: Metrics;
  /** The embedded sandbox, checked by /readyz in sandbox mode. */
  sandboxUrl?: string;
  metricsToken?: string;
}

const READY_CHECK_TIMEOUT_MS = 2000;

/**
 * /healthz, /readyz, /metrics and /openapi.json. None needs the payment
 * credentials; none says where the gateways are or how the service is configured.
 */
export function operationsRoutes(options: OperationsOptions): Router {
  const router = Router();
  const document = openApiDocument();
  const hasMetricsToken = options.metricsToken ? bearerTokenCheck(options.metricsToken) : undefined;

  router.get('/healthz', (_req, res) => {
    contextOf(res).route = '/healthz';
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    contextOf(res).route = '/readyz';
    const checks: Record<string, 'ok' | 'failing'> = {
      mappings: options.catalog.list().length > 0 ? 'ok' : 'failing',
      journal: await withinTime(options.journal.ping()),
    };
    if (options.sandboxUrl) checks.sandbox = await withinTime(axios.get(`${options.sandboxUrl}/healthz`, { timeout: READY_CHECK_TIMEOUT_MS, proxy: false }));
    const ready = Object.values(checks).every((check) => check === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });

  router.get('/metrics', async (req, res) => {
    Object.assign(contextOf(res), { route: '/metrics', bearerRealm: 'metrics' });
    if (hasMetricsToken && !hasMetricsToken(req)) throw new Unauthorized('A valid metrics Bearer token is required');
    res.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });

  router.get('/openapi.json', (_req, res) => {
    contextOf(res).route = '/openapi.json';
    res.json(document);
  });
  return router;
}

async function withinTime(check: Promise<unknown>): Promise<'ok' | 'failing'> {
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

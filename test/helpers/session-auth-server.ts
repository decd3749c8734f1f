import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express, { type ErrorRequestHandler } from 'express';
import { BridgeError } from '../../src/errors';
import { AuthThrottle } from '../../src/http/auth-throttle';
import { apiClientOf, clientAuthentication } from '../../src/http/client-authentication';
import { oauthRoutes } from '../../src/http/oauth-routes';
import { contextOf } from '../../src/http/request-context';
import { requestLog } from '../../src/http/request-log';
import { sendSessionApiError } from '../../src/http/session-api-error';
import { createMetrics } from '../../src/observability/metrics';
import { AccessTokens } from '../../src/security/access-tokens';
import type { SecretChecks } from '../../src/security/secret-hash';
import { ApiClientRegistry } from '../../src/sessions/api-client-registry';
import type { ApiClientEntry } from '../../src/sessions/api-clients-file';
import { capturingLogger, temporaryFolder, TOKEN_SIGNING_KEY, writeClients } from './api-clients';
import type { CapturedLogs } from './service';

export interface SessionAuthServer {
  url: string;
  file: string;
  registry: ApiClientRegistry;
  tokens: AccessTokens;
  logs: CapturedLogs;
  /** `METHOD path` of every request that called markAuthenticated. */
  authenticated: string[];
  stop(): Promise<void>;
}

export interface SessionAuthServerOptions {
  clients: ApiClientEntry[];
  secretChecks?: SecretChecks;
  tokens?: Partial<ConstructorParameters<typeof AccessTokens>[0]>;
}

/**
 * The token endpoint and a stand-in of the session API behind requireScope, on a real server on
 * loopback, put together as the service's app puts its routes: the request log first (it makes
 * the request context and its log line), then the routes, then an error middleware answering
 * BridgeErrors the session API's way.
 */
export async function startSessionAuthServer({ clients, secretChecks, tokens: tokenOptions }: SessionAuthServerOptions): Promise<SessionAuthServer> {
  const file = path.join(temporaryFolder(), 'api-clients.json');
  writeClients(file, clients);
  const { logger, logs } = capturingLogger();
  const registry = new ApiClientRegistry({ file, logger, secretChecks, pollIntervalMs: 100 });
  const tokens = new AccessTokens({ signingKey: TOKEN_SIGNING_KEY, ttlSeconds: 3600, clients: registry, ...tokenOptions });
  const throttle = new AuthThrottle();
  const authenticated: string[] = [];

  const app = express();
  app.set('query parser', false);
  app.use(requestLog(logger, createMetrics()));
  app.use((req, res, next) => {
    // What Admission does: the hook markAuthenticated calls.
    contextOf(res).onAuthenticated = () => authenticated.push(`${req.method} ${req.path}`);
    next();
  });
  app.use(oauthRoutes({ clients: registry, tokens, throttle, logger }));
  const requireScope = clientAuthentication({ tokens, throttle });
  app.get('/v1/sessions', requireScope('sessions:read'), (_req, res) => {
    res.json({ client: apiClientOf(res) });
  });
  app.post('/v1/sessions', requireScope('sessions:write'), (_req, res) => {
    res.status(201).json({ client: apiClientOf(res) });
  });
  const answer: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
    if (error instanceof BridgeError) sendSessionApiError(res, error);
    else res.status(500).json({ error: { code: 'INTERNAL_ERROR', message: 'unexpected' } });
  };
  app.use(answer);

  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    file,
    registry,
    tokens,
    logs,
    authenticated,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await registry.close();
    },
  };
}

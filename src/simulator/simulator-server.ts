import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { CallControl } from './call-control';
import { callsApi } from './calls-api';
import type { ConnectorConfig } from './connector-call';
import { MessageCenter } from './messages';
import { messagesApi } from './messages-api';
import { paymentsApi } from './payments-api';
import { PendingWork } from './pending-work';
import { phoneRoutes } from './phone-routes';
import { restAuthentication } from './rest-auth';
import { SignedRequests } from './signed-requests';
import { TwilioError, notFound } from './twilio-error';

/**
 * A simulator of Twilio's side of a phone payment: the agent-assisted Payments API (same
 * paths, form fields, auth and JSON as Twilio), live call control and the TwiML a call runs,
 * `<Pay>`, text messages, the caller's keypad and phone, and every request to an app signed
 * as Twilio signs it, ending in a call to a Generic Pay Connector exactly as Twilio makes it.
 * Nothing is kept after a payment ends; no digit is ever echoed.
 */
export interface SimulatorOptions {
  host?: string;
  port?: number;
  /** The auth token of every account: it authenticates API calls and signs requests to apps. */
  authToken: string;
  connectors: Record<string, ConnectorConfig>;
  /** How long Twilio waits for the connector before retrying (10 s). */
  connectorWaitMs?: number;
  connectorRetries?: number;
  /** Phone numbers the simulated network cannot reach: their messages end `undelivered`. */
  unreachableNumbers?: string[];
}

export interface Simulator {
  url: string;
  /** Resolves once every request queued so far (callbacks, fetches, messages) has been made. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const requests = new SignedRequests(options.authToken);
  const work = new PendingWork();
  const connectorTiming = { waitMs: options.connectorWaitMs ?? 10_000, retries: options.connectorRetries ?? 5 };
  const auth = restAuthentication(options.authToken);
  const calls = new CallControl({ connectors: options.connectors, requests, work, connectorTiming });
  const messages = new MessageCenter(requests, work, options.unreachableNumbers);

  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false, limit: '32kb' }));
  app.use(express.json({ limit: '32kb' }));
  app.use(express.text({ type: ['text/xml', 'application/xml'], limit: '32kb' }));

  paymentsApi(app, { auth, calls, connectors: options.connectors, requests, work, connectorTiming });
  callsApi(app, { auth, calls });
  messagesApi(app, { auth, messages });
  phoneRoutes(app, { calls, messages });

  app.use((_req: Request, _res: Response) => {
    throw notFound();
  });
  app.use((error: unknown, _req: Request, res: Response, _next: unknown) => {
    const failure = error instanceof TwilioError ? error : new TwilioError(500, 20500, 'Internal Server Error');
    if (failure.status === 401) res.set('WWW-Authenticate', 'Basic realm="Twilio API"');
    res.status(failure.status).json({ code: failure.code, message: failure.message, more_info: `https://www.twilio.com/docs/errors/${failure.code}`, status: failure.status });
  });

  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    settled: async () => {
      await work.settled();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

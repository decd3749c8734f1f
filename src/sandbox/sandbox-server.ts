import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { answerQsapi, faultFor, type QsapiFields } from './payconex-rules';

export const QSAPI_PATH = '/api/qsapi/3.8';

/** How long the `2.02` trigger waits before answering: past Twilio's 10 s. */
export const SLOW_ANSWER_MS = 12_000;

export interface SandboxGateway {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  stop(): Promise<void>;
}

/**
 * A PayConex QSAPI 3.8-compatible gateway for development and tests: form in,
 * JSON out, deterministic answers (payconex-rules.ts), fault triggers on amount.
 * It keeps nothing and logs nothing.
 */
export async function startSandboxGateway(options: { host?: string; port?: number } = {}): Promise<SandboxGateway> {
  let counter = 0;
  const pendingTimers = new Set<NodeJS.Timeout>();

  const app = express();
  app.disable('x-powered-by');
  app.post([QSAPI_PATH, `${QSAPI_PATH}/`], express.urlencoded({ extended: false, limit: '64kb' }), (req, res) => {
    const fields = (req.body ?? {}) as QsapiFields;
    const answer = () => {
      counter += 1;
      return answerQsapi(fields, { transactionId: String(counter).padStart(12, '0'), now: new Date() });
    };
    switch (faultFor(fields)) {
      case 'slow': {
        const timer = setTimeout(() => {
          pendingTimers.delete(timer);
          if (!res.destroyed) res.json(answer());
        }, SLOW_ANSWER_MS);
        pendingTimers.add(timer);
        return;
      }
      case 'http-500':
        res.status(500).type('html').send('<html><body><h1>500 Internal Server Error</h1></body></html>');
        return;
      case 'malformed':
        res.type('json').send('{"transaction_id":"0000000');
        return;
      case 'hang-up':
        req.socket.destroy();
        return;
      default:
        res.json(answer());
    }
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use((_req, res) => {
    res.status(404).json({ error: true, error_code: 404, error_message: 'Not found' });
  });

  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of pendingTimers) clearTimeout(timer);
        pendingTimers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

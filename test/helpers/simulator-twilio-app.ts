import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request } from 'express';
import twilio from 'twilio';

/** One request the simulator made to the app, kept as it arrived. */
export interface AppRequest {
  method: string;
  path: string;
  /** The full URL the request was made to, as the app sees it (what Twilio signs). */
  url: string;
  params: Record<string, string>;
  signature: string | undefined;
  /** Whether `twilio.webhook()` let it through. */
  accepted: boolean;
}

type Answer = (params: Record<string, string>) => string | { toString(): string } | undefined;

/**
 * An app on Twilio's receiving end, as its developer would write it: Express with the official
 * `twilio.webhook()` middleware, which refuses any request whose X-Twilio-Signature is missing
 * (400) or wrong (403). Each path answers TwiML the test gives (a `twilio.twiml.VoiceResponse`)
 * or nothing; every request is kept, accepted or not.
 */
export class SimulatorTwilioApp {
  readonly requests: AppRequest[] = [];
  private readonly answers = new Map<string, Answer>();
  private server?: http.Server;
  url = '';

  constructor(private readonly authToken: string) {}

  /** What `path` answers: TwiML (text/xml), or an empty 204 for callbacks. */
  answer(path: string, answer: Answer): this {
    this.answers.set(path, answer);
    return this;
  }

  async start(): Promise<this> {
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use((req, res, next) => {
      const request: AppRequest = {
        method: req.method,
        path: req.path,
        url: `http://${req.get('host') ?? ''}${req.originalUrl}`,
        params: paramsOf(req),
        signature: req.get('X-Twilio-Signature'),
        accepted: false,
      };
      this.requests.push(request);
      res.locals.request = request;
      next();
    });
    app.use(twilio.webhook(this.authToken));
    app.use((req, res) => {
      (res.locals.request as AppRequest).accepted = true;
      const twiml = this.answers.get(req.path)?.(paramsOf(req));
      if (twiml === undefined) res.status(204).end();
      else res.type('text/xml').send(twiml.toString());
    });
    this.server = http.createServer(app);
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  at(path: string): AppRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  /** The first request matching `predicate`, waiting for it (generous: a slow machine). */
  async waitFor(predicate: (request: AppRequest) => boolean, timeoutMs = 20_000): Promise<AppRequest> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.requests.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no request matched; last: ${JSON.stringify(this.requests.slice(-3).map((request) => [request.path, request.params]))}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** Form fields for a POST, query fields for a GET: what Twilio signed besides the URL. */
function paramsOf(req: Request): Record<string, string> {
  const source = req.method === 'GET' ? {} : ((req.body ?? {}) as Record<string, unknown>);
  return Object.fromEntries(Object.entries(source).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

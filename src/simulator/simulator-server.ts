import http from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import express, { type Request, type Response } from 'express';
import { constantTimeMatcher } from '../redaction/constant-time';
import type { ConnectorConfig } from './connector-call';
import { IvrPay } from './ivr-pay';
import { CAPTURE_FIELDS, PaySession, rfc2822, type CaptureField } from './session';
import { readPayTwiml, TwimlError, type PayTwiml } from './twiml';

/**
 * A simulator of Twilio's side of a phone payment: the agent-assisted Payments
 * API (same paths, form fields, auth and JSON as Twilio), the caller's keypad, and
 * the status callbacks, ending in a call to a Generic Pay Connector exactly as
 * Twilio makes it. Nothing is kept after a session ends; no digit is ever echoed.
 */
export interface SimulatorOptions {
  host?: string;
  port?: number;
  authToken: string;
  connectors: Record<string, ConnectorConfig>;
  /** How long Twilio waits for the connector before retrying (10 s). */
  connectorWaitMs?: number;
  connectorRetries?: number;
}

export interface Simulator {
  url: string;
  /** Resolves once every callback queued so far, in every session, has been posted. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

const ACCOUNT_SID = /^AC[0-9a-f]{32}$/;
const CALL_SID = /^CA[0-9a-f]{32}$/;

/** A session holds its call from Create until its final callback: while capturing, and while the connector is being called. */
const inProgress = (session: PaySession | undefined): boolean => session !== undefined && session.state !== 'ended';

/**
 * A number given as a form field or TwiML attribute, kept within [min, max]; a value
 * that is absent, blank, not a number or not positive ("soon", "0", "-3") is `fallback`.
 */
function positiveNumberOr(value: unknown, fallback: number, range: { min: number; max: number }): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(number) && number > 0 ? Math.min(range.max, Math.max(range.min, number)) : fallback;
}

/** Seconds allowed between digits (Payments `Timeout`, `<Pay timeout>`): default 5, maximum 600. */
const timeoutSecondsOf = (value: unknown): number => positiveNumberOr(value, 5, { min: 1, max: 600 });

class TwilioError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const tokenMatches = constantTimeMatcher(options.authToken);
  const sessions = new Map<string, PaySession>();
  const activeByCall = new Map<string, PaySession>();
  const idempotent = new Map<string, object>();
  const ivrByCall = new Map<string, IvrPay>();
  const hooks = {
    connectorWaitMs: options.connectorWaitMs ?? 10_000,
    connectorRetries: options.connectorRetries ?? 5,
    notify: async (url: string, fields: Record<string, string>) => {
      await axios.post(url, new URLSearchParams(fields).toString(), {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        timeout: 15_000,
        validateStatus: () => true,
        proxy: false,
      });
    },
  };

  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false, limit: '32kb' }));
  app.use(express.text({ type: ['text/xml', 'application/xml'], limit: '32kb' }));

  const base = '/2010-04-01/Accounts/:accountSid/Calls/:callSid/Payments';
  const authenticated = (req: Request): { accountSid: string; callSid: string } => {
    const { accountSid, callSid } = req.params as { accountSid: string; callSid: string };
    const [user = '', token = ''] = Buffer.from((req.get('authorization') ?? '').replace(/^Basic\s+/i, ''), 'base64').toString().split(':');
    if (!ACCOUNT_SID.test(accountSid) || user !== accountSid || !tokenMatches(token)) throw new TwilioError(401, 20003, 'Authenticate');
    if (!CALL_SID.test(callSid)) throw new TwilioError(404, 20404, 'The requested resource was not found');
    return { accountSid, callSid };
  };
  const requiredFields = (req: Request) => {
    for (const name of ['IdempotencyKey', 'StatusCallback']) {
      if (!req.body?.[name]) throw new TwilioError(400, 21218, `Missing required parameter ${name}`);
    }
    return { key: String(req.body.IdempotencyKey), callback: String(req.body.StatusCallback) };
  };
  const resource = (session: PaySession) => ({
    account_sid: session.settings.accountSid,
    call_sid: session.settings.callSid,
    sid: session.sid,
    date_created: rfc2822(session.createdAt),
    date_updated: rfc2822(session.updatedAt),
    uri: `/2010-04-01/Accounts/${session.settings.accountSid}/Calls/${session.settings.callSid}/Payments/${session.sid}.json`,
  });
  // An IdempotencyKey is the client's for one resource: a Create's key counts within its
  // account and call, an Update's within its account, call and payment. Another call reusing
  // a key gets its own answer, never this one. An error is not kept, so a retry is re-judged.
  const once = (scope: string[], answer: () => object) => {
    const key = JSON.stringify(scope);
    if (!idempotent.has(key)) idempotent.set(key, answer());
    return idempotent.get(key)!;
  };
  const sessionInProgress = () => new TwilioError(400, 64021, 'Invalid operation: a pay session is already active on this call (session-in-progress)');
  /** A Payments session or a <Pay> holds the call until it ends: one at a time per call. */
  const callIsPaying = (callSid: string) => inProgress(activeByCall.get(callSid)) || ivrByCall.get(callSid)?.ended === false;

  app.post(`${base}.json`, (req, res) => {
    const { accountSid, callSid } = authenticated(req);
    const { key, callback } = requiredFields(req);
    const answer = once(['create', accountSid, callSid, key], () => {
      if (callIsPaying(callSid)) throw sessionInProgress();
      const body = req.body as Record<string, string | undefined>;
      const paymentMethod = body.PaymentMethod ?? 'credit-card';
      if (paymentMethod !== 'credit-card' && paymentMethod !== 'ach-debit') throw new TwilioError(400, 64013, 'PaymentMethod is not supported');
      if (paymentMethod === 'credit-card' && body.BankAccountType) throw new TwilioError(400, 64017, 'BankAccountType cannot be used with PaymentMethod credit-card');
      const connectorName = body.PaymentConnector ?? 'Default';
      const connector = options.connectors[connectorName];
      if (!connector) throw new TwilioError(400, 64004, 'PaymentConnector does not match an installed connector');
      const amount = body.ChargeAmount;
      if (amount !== undefined && amount !== '' && !(/^\d+(\.\d{1,2})?$/.test(amount) && Number(amount) < 1_000_000)) {
        throw new TwilioError(400, 21218, 'ChargeAmount must be a positive decimal below 1,000,000');
      }
      const parameters = parseParameters(body.Parameter);
      const session = new PaySession(
        {
          accountSid,
          callSid,
          statusCallback: callback,
          paymentMethod,
          chargeAmount: amount === '' ? undefined : amount,
          currency: body.Currency ?? 'USD',
          tokenType: body.TokenType ?? 'reusable',
          connectorName,
          connector,
          validCardTypes: (body.ValidCardTypes ?? 'visa mastercard amex').split(/\s+/).filter(Boolean),
          securityCode: body.SecurityCode !== 'false',
          postalCode: body.PostalCode !== 'false',
          minPostalCodeLength: positiveNumberOr(body.MinPostalCodeLength, 1, { min: 1, max: Number.MAX_SAFE_INTEGER }),
          timeoutSeconds: timeoutSecondsOf(body.Timeout),
          bankAccountType: paymentMethod === 'ach-debit' ? (body.BankAccountType ?? 'consumer-checking') : undefined,
          parameters,
          description: body.Description,
        },
        hooks,
      );
      sessions.set(session.sid, session);
      activeByCall.set(callSid, session);
      return resource(session);
    });
    res.status(201).json(answer);
  });

  app.post(`${base}/:sid.json`, (req, res) => {
    const { accountSid, callSid } = authenticated(req);
    const { key, callback } = requiredFields(req);
    const session = sessions.get(String(req.params.sid));
    if (!session || session.settings.accountSid !== accountSid || session.settings.callSid !== callSid) {
      throw new TwilioError(404, 20404, 'The requested resource was not found');
    }
    const answer = once(['update', accountSid, callSid, session.sid, key], () => {
      if (session.state !== 'active') throw new TwilioError(400, 64021, `Invalid operation: the pay session ${session.state === 'completing' ? 'is being completed' : 'has ended'}`);
      session.settings.statusCallback = callback;
      const capture = req.body.Capture as string | undefined;
      const status = req.body.Status as string | undefined;
      if (capture) {
        if (!(CAPTURE_FIELDS as readonly string[]).includes(capture) || !session.accepts(capture as CaptureField)) {
          throw new TwilioError(400, 64013, `Capture ${capture} is not valid for this payment method`);
        }
        session.capture(capture as CaptureField);
      } else if (status === 'complete') {
        if (session.required().length > 0) throw new TwilioError(400, 64019, 'Required payment information incomplete');
        session.complete();
      } else if (status === 'cancel') {
        session.cancel();
      } else {
        throw new TwilioError(400, 21218, 'Capture or Status (complete, cancel) is required');
      }
      return resource(session);
    });
    res.status(200).json(answer);
  });

  // An IVR call flow reaching a <Pay> verb: the TwiML an IVR app returns to Twilio (text/xml), or
  // the verb's attributes as form fields with `parameters` as a JSON object.
  app.post('/simulator/calls/:callSid/pay', (req, res) => {
    const callSid = String(req.params.callSid);
    if (!CALL_SID.test(callSid)) throw new TwilioError(404, 20404, 'The requested resource was not found');
    if (callIsPaying(callSid)) throw sessionInProgress();
    const { attributes, parameters, prompts } = payVerbOf(req);
    if (!attributes.action) throw new TwilioError(400, 21218, 'Missing required attribute action');
    const connectorName = attributes.paymentConnector ?? 'Default';
    const connector = options.connectors[connectorName];
    if (!connector) throw new TwilioError(400, 64004, 'paymentConnector does not match an installed connector');
    const paymentMethod = attributes.paymentMethod === 'ach-debit' ? 'ach-debit' : 'credit-card';
    const postalCode = attributes.postalCode === undefined || attributes.postalCode === 'true' ? true : attributes.postalCode === 'false' ? false : attributes.postalCode;
    const pay = new IvrPay(
      {
        accountSid: String(attributes.AccountSid ?? `AC${'0'.repeat(32)}`),
        callSid,
        action: attributes.action,
        statusCallback: attributes.statusCallback,
        paymentMethod,
        chargeAmount: attributes.chargeAmount || undefined,
        currency: attributes.currency ?? 'usd',
        timeoutSeconds: timeoutSecondsOf(attributes.timeout),
        maxAttempts: Math.floor(positiveNumberOr(attributes.maxAttempts, 1, { min: 1, max: 3 })),
        securityCode: attributes.securityCode !== 'false',
        postalCode,
        minPostalCodeLength: positiveNumberOr(attributes.minPostalCodeLength, 1, { min: 1, max: Number.MAX_SAFE_INTEGER }),
        connectorName,
        connector,
        validCardTypes: (attributes.validCardTypes ?? 'visa mastercard amex').split(/\s+/).filter(Boolean),
        bankAccountType: attributes.bankAccountType ?? 'consumer-checking',
        description: attributes.description,
        parameters,
        prompts,
      },
      hooks.notify,
      { waitMs: hooks.connectorWaitMs, retries: hooks.connectorRetries },
    );
    ivrByCall.set(callSid, pay);
    res.status(201).json({ call_sid: callSid, events: pay.events });
  });
  app.get('/simulator/calls/:callSid/events', (req, res) => {
    res.json({ events: ivrByCall.get(String(req.params.callSid))?.events ?? [] });
  });

  // The caller's keypad and phone. Digits are never echoed: the answer is empty.
  const caller = (req: Request): { keypad(keys: string): void; hangUp(): void } => {
    const callSid = String(req.params.callSid);
    const ivr = ivrByCall.get(callSid);
    if (ivr && !ivr.ended) return ivr;
    const session = activeByCall.get(callSid);
    if (!session || session.state !== 'active') throw new TwilioError(409, 64021, 'No pay session is active on this call');
    return session;
  };
  app.post('/simulator/calls/:callSid/dtmf', (req, res) => {
    const digits = String(req.body?.Digits ?? '');
    if (!/^[0-9#*]+$/.test(digits)) throw new TwilioError(400, 21218, 'Digits may hold 0-9, # and * only');
    caller(req).keypad(digits);
    res.status(204).end();
  });
  app.post('/simulator/calls/:callSid/hangup', (req, res) => {
    caller(req).hangUp();
    res.status(204).end();
  });

  app.use((_req: Request, _res: Response) => {
    throw new TwilioError(404, 20404, 'The requested resource was not found');
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
      await Promise.all([...sessions.values(), ...ivrByCall.values()].map((flow) => flow.settled()));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The `<Pay>` verb of a request: a TwiML document, or its attributes as form fields. */
function payVerbOf(req: Request): PayTwiml {
  if (typeof req.body === 'string') {
    try {
      return readPayTwiml(req.body);
    } catch (error) {
      if (error instanceof TwimlError) throw new TwilioError(400, 12100, `Document parse failure: ${error.message}`);
      throw error;
    }
  }
  const fields = (req.body ?? {}) as Record<string, unknown>;
  const attributes = Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  return { attributes, parameters: parseParameters(attributes.parameters), prompts: [] };
}

function parseParameters(text: string | undefined): Record<string, string> {
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, String(value)]));
    }
  } catch {
    // answered below
  }
  throw new TwilioError(400, 21218, 'parameters must be a single-level JSON object');
}

import { createHash } from 'node:crypto';
import { parse as parseCookies } from 'cookie';
import { doubleCsrf } from 'csrf-csrf';
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { BridgeError, CsrfTokenInvalid, LinkExpired, PageRateLimited, SessionNotFound } from '../errors';
import type { Logger } from '../logging/logger';
import { isLoopback } from '../mapping/connectors';
import { RateLimiter } from '../security/rate-limiter';
import type { DigitalSessions, PaymentPageView } from '../sessions/digital-sessions';
import { PAYMENT_FORM_FIELDS, type FieldProblem, type PaymentFormField, type PaymentFormFields } from '../sessions/payment-form';
import { FIELD_KEYS, type FieldKey } from '../sessions/session';
import { PAY_ICON, PAY_ICON_PATH, PAY_SCRIPT_PATH, PAY_STYLES_PATH, payPage, statusOf } from '../web/pay/pay-page';
import { PAY_SCRIPT } from '../web/pay/pay-script';
import { PAY_STYLES } from '../web/pay/pay-styles';
import { answerApiFailure } from './api-errors';
import { contextOf } from './request-context';

export interface PayRoutesOptions {
  digital: DigitalSessions;
  merchantName: string;
  /** GATEWAY_ENV is not production: the page says it is a test payment. */
  testPayments: boolean;
  /** TOKEN_SIGNING_KEY: the CSRF tokens' key is derived from it. */
  signingKey: string;
  /** PUBLIC_URL: the CSRF cookie is Secure unless it is plain HTTP on loopback. */
  publicUrl: string;
  /** PAY_PAGE_REQUESTS_PER_MINUTE per address; a link gets a fifth of it (an open page beats 12 times a minute). */
  requestsPerMinute: number;
  logger: Logger;
}

/** The security headers of every payment page answer (script-inventory.json records them). */
export const PAY_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
};

/** Subresource Integrity of the page's script: the page names it, the browser checks it. */
export const PAY_SCRIPT_INTEGRITY = `sha384-${createHash('sha384').update(PAY_SCRIPT).digest('base64')}`;

const CSRF_COOKIE = 'pb_pay_csrf';
const CSRF_HEADER = 'x-csrf-token';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** Addresses and links whose request counts are kept; beyond it the least recently seen are forgotten. */
const COUNTED_KEYS = 50_000;
const PROBLEMS = new Set<FieldProblem>(['missing', 'invalid', 'expired', 'length', 'brand']);

interface PayRequest extends Request {
  /** What this request's CSRF token is bound to: the link's token, hashed. */
  payCsrfIdentity?: string;
}

/**
 * The hosted payment page: GET shows the link's session as its state allows (the form, processing,
 * the result, or the pages of a cancelled, expired or unknown link); every POST answers with a
 * redirect to that page (post-redirect-get), its field problems named in the query, never a value.
 * Thin routes over DigitalSessions; the same security headers on every answer.
 */
export function payRoutes(options: PayRoutesOptions): Router {
  const { digital } = options;
  const router = Router();
  const url = new URL(options.publicUrl);
  const secure = !(url.protocol === 'http:' && isLoopback(url.hostname));
  const csrf = doubleCsrf({
    getSecret: () => createHmacKey(options.signingKey),
    getSessionIdentifier: (req) => (req as PayRequest).payCsrfIdentity ?? '',
    cookieName: CSRF_COOKIE,
    cookieOptions: { httpOnly: true, sameSite: 'strict', path: '/pay', secure },
    getCsrfTokenFromRequest: (req) => {
      const field = (req.body as Record<string, unknown> | undefined)?._csrf;
      return typeof field === 'string' ? field : req.get(CSRF_HEADER);
    },
  });
  const perAddress = new RateLimiter({ limit: options.requestsPerMinute, windowMs: 60_000, maxKeys: COUNTED_KEYS });
  const perLink = new RateLimiter({ limit: Math.ceil(options.requestsPerMinute / 5), windowMs: 60_000, maxKeys: COUNTED_KEYS });
  const form = express.urlencoded({ extended: false, limit: 4 * 1024, parameterLimit: 20, type: () => true });
  const json = express.json({ limit: 1024, type: () => true });

  const context: RequestHandler = (req, res, next) => {
    Object.assign(contextOf(res), { route: req.path.startsWith('/pay/assets/') ? '/pay/assets' : req.path.endsWith('/presence') ? '/pay/{token}/presence' : '/pay/{token}', apiErrors: true });
    res.set(PAY_PAGE_HEADERS);
    next();
  };
  const limited: RequestHandler = (req, res, next) => {
    const address = contextOf(res).clientAddress;
    const link = String(req.params.token ?? '');
    if (!perAddress.take(address)) throw new PageRateLimited('Too many requests from this address: wait a minute', perAddress.retryAfterSeconds(address));
    if (!perLink.take(link)) throw new PageRateLimited('Too many requests on this link: wait a minute', perLink.retryAfterSeconds(link));
    const header = req.headers.cookie;
    (req as Request & { cookies: Record<string, string | undefined> }).cookies = header && header.length <= 4096 ? parseCookies(header) : {};
    (req as PayRequest).payCsrfIdentity = createHash('sha256').update(link).digest('base64url');
    next();
  };
  const token = (req: Request) => {
    const value = String(req.params.token);
    if (!TOKEN.test(value)) throw new SessionNotFound('No such payment link');
    return value;
  };
  const render = (req: Request, res: Response, view: PaymentPageView, staleForm = false) => {
    // The browser's token is kept while it is this link's: the link opened in a second tab (a
    // message tapped twice) must not make the first tab's form fail.
    const csrfToken = view.kind === 'form' ? csrf.generateCsrfToken(req, res, { overwrite: false }) : undefined;
    res
      .status(statusOf(view))
      .type('text/html')
      .send(payPage(view, { merchantName: options.merchantName, testPayment: options.testPayments, csrfToken, scriptIntegrity: PAY_SCRIPT_INTEGRITY, staleForm }));
  };
  const pageOf = (req: Request) => `/pay/${String(req.params.token)}`;

  router.use('/pay', context);
  router.get(PAY_SCRIPT_PATH, (_req, res) => {
    res.type('text/javascript').send(PAY_SCRIPT);
  });
  router.get(PAY_STYLES_PATH, (_req, res) => {
    res.type('text/css').send(PAY_STYLES);
  });
  router.get(PAY_ICON_PATH, (_req, res) => {
    res.type('image/svg+xml').send(PAY_ICON);
  });

  router.get('/pay/:token', limited, async (req, res) => {
    if (!TOKEN.test(String(req.params.token))) return render(req, res, { kind: 'not-found' });
    const query = new URL(req.originalUrl, 'http://local').searchParams;
    render(req, res, await digital.view(String(req.params.token), problemsOf(query)), query.get('form') === 'expired');
  });

  router.post('/pay/:token', limited, form, async (req, res) => {
    const link = token(req);
    if (!csrf.validateRequest(req)) {
      // A stale page (another link's page took the cookie since): the page says so, and the customer tries again.
      res.redirect(303, `${pageOf(req)}?form=expired`);
      return;
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const fields: PaymentFormFields = {};
    for (const name of [...PAYMENT_FORM_FIELDS, 'attempt'] as const) {
      if (typeof body[name] === 'string') fields[name] = body[name];
    }
    req.body = undefined; // the parsed form holds clear card data: it travels no further than this call
    const submission = await digital.pay(link, fields, contextOf(res).requestId);
    const problems = Object.entries(submission.problems ?? {}).map(([field, problem]) => `${field}:${problem}`);
    res.redirect(303, problems.length > 0 ? `${pageOf(req)}?problems=${problems.join(',')}` : pageOf(req));
  });

  router.post('/pay/:token/presence', limited, json, async (req, res) => {
    const link = token(req);
    if (!csrf.validateRequest(req)) throw new CsrfTokenInvalid('The page\'s CSRF token is missing or not valid');
    const typed = ((req.body ?? {}) as { typed?: Record<string, unknown> }).typed ?? {};
    const counts: Partial<Record<FieldKey, number>> = {};
    for (const field of FIELD_KEYS) if (typeof typed[field] === 'number' && Number.isFinite(typed[field])) counts[field] = typed[field];
    await digital.seen(link, counts);
    res.status(204).end();
  });

  // A page's errors are pages; the heartbeat's, the session API's JSON shape.
  const answer: ErrorRequestHandler = (error: unknown, req, res, next) => {
    if (!contextOf(res).apiErrors) return next(error);
    if (req.method === 'GET' || (req.method === 'POST' && !req.path.endsWith('/presence'))) {
      if (error instanceof LinkExpired) return render(req, res, { kind: 'expired' });
      if (error instanceof SessionNotFound) return render(req, res, { kind: 'not-found' });
      if (error instanceof BridgeError && error.httpStatus === 429) {
        res.set('Retry-After', String(error.retryAfterSeconds ?? 60)).status(429).type('text/plain').send('Too many requests: wait a minute and try again.');
        return;
      }
    }
    answerApiFailure(res, error, options.logger);
  };
  router.use(answer);
  return router;
}

function createHmacKey(signingKey: string): string {
  return createHash('sha256').update(`paybridge pay page csrf v1\u0000${signingKey}`).digest('hex');
}

/** `?problems=card_number:invalid,expiry:expired`: field names and problem codes only, anything else ignored. */
function problemsOf(query: URLSearchParams): Partial<Record<PaymentFormField, FieldProblem>> | undefined {
  const given = query.get('problems');
  if (!given) return undefined;
  const problems: Partial<Record<PaymentFormField, FieldProblem>> = {};
  for (const entry of given.split(',').slice(0, PAYMENT_FORM_FIELDS.length)) {
    const [field, problem] = entry.split(':') as [PaymentFormField, FieldProblem];
    if ((PAYMENT_FORM_FIELDS as readonly string[]).includes(field) && PROBLEMS.has(problem)) problems[field] = problem;
  }
  return Object.keys(problems).length > 0 ? problems : undefined;
}

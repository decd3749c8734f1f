import { randomBytes } from 'node:crypto';
import { parse as parseCookies } from 'cookie';
import { doubleCsrf } from 'csrf-csrf';
import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import { ConsoleSignInRequired, CsrfTokenInvalid, InvalidAccessToken } from '../errors';
import { isLoopback } from '../mapping/connectors';
import type { ConsoleTokens } from '../security/console-tokens';
import type { ApiClients } from '../sessions/api-clients';
import type { ConsoleUser, ConsoleUsers } from '../sessions/console-users';
import type { AuthThrottle } from './auth-throttle';
import { contextOf, markAuthenticated } from './request-context';

/** The signed-in agent's cookie (a sign-in JWT), and the random one the sign-in form's CSRF token is bound to. */
export const SIGN_IN_COOKIE = 'pb_console';
export const PRE_SIGN_IN_COOKIE = 'pb_console_pre';
export const CSRF_COOKIE = 'pb_console_csrf';
/** The header every state change of a signed-in console carries its CSRF token in (forms: the `_csrf` field). */
export const CSRF_HEADER = 'x-csrf-token';
/** The client id that owns the sessions agents start from the signed-in console (decisions item 1). */
export const CONSOLE_CLIENT_ID = 'console';

/** Who is acting through the console. */
export type ConsolePrincipal =
  | { mode: 'signed-in'; user: ConsoleUser; sid: string; clientId: string; actor: `console:${string}` }
  /** A console opened from a console_url: one session of one API client, nothing else. */
  | { mode: 'link'; sessionId: string; clientId: string; actor: `console:${string}` };

export interface ConsoleAuthOptions {
  tokens: ConsoleTokens;
  users: ConsoleUsers;
  clients: ApiClients;
  throttle: AuthThrottle;
  /** TOKEN_SIGNING_KEY: the CSRF tokens' HMAC key is derived from it. */
  csrfSecret: string;
  /** PUBLIC_URL: cookies are Secure unless it is plain HTTP on loopback (a developer's laptop). */
  publicUrl: string;
}

interface ConsoleRequest extends Request {
  /** What the CSRF token of this request is bound to: the sign-in's sid, or the pre-sign-in cookie. */
  consoleCsrfIdentity?: string;
}

/**
 * How the console knows who acts: a bearer console token (a console opened from a console_url:
 * no cookie, so it works in a cross-site frame, and no CSRF token, since nothing is sent by the
 * browser on its own), or the signed-in agent's cookie (HttpOnly, SameSite=Strict, Path=/console,
 * Secure off loopback) with a CSRF token (csrf-csrf's signed double submit, bound to the sign-in)
 * on every state change.
 */
export class ConsoleAuth {
  readonly secureCookies: boolean;
  private readonly csrf: ReturnType<typeof doubleCsrf>;

  constructor(private readonly options: ConsoleAuthOptions) {
    const url = new URL(options.publicUrl);
    this.secureCookies = !(url.protocol === 'http:' && isLoopback(url.hostname));
    this.csrf = doubleCsrf({
      getSecret: () => options.csrfSecret,
      getSessionIdentifier: (req) => (req as ConsoleRequest).consoleCsrfIdentity ?? '',
      cookieName: CSRF_COOKIE,
      cookieOptions: this.cookieOptions(),
      getCsrfTokenFromRequest: (req) => {
        // Forms (sign-in, sign-out) carry it in a field; the page's script in a header. Never both ways for one route.
        if (req.path === '/console/sign-in' || req.path === '/console/sign-out') {
          const field = (req.body as Record<string, unknown> | undefined)?._csrf;
          return typeof field === 'string' ? field : undefined;
        }
        return req.get(CSRF_HEADER);
      },
    });
  }

  /** Every /console request: its cookies read (and nothing else of them believed yet). */
  readonly cookies: RequestHandler = (req, _res, next) => {
    const header = req.headers.cookie;
    (req as Request & { cookies: Record<string, string | undefined> }).cookies = header && header.length <= 4096 ? parseCookies(header) : {};
    next();
  };

  cookieOptions(maxAgeMs?: number): CookieOptions {
    return { httpOnly: true, sameSite: 'strict', path: '/console', secure: this.secureCookies, ...(maxAgeMs === undefined ? {} : { maxAge: maxAgeMs }) };
  }

  /** The signed-in agent, if the cookie holds a valid sign-in of a user still registered as then. */
  async signedIn(req: Request): Promise<{ user: ConsoleUser; sid: string } | undefined> {
    const value = cookieOf(req, SIGN_IN_COOKIE);
    if (!value) return undefined;
    let claims;
    try {
      claims = await this.options.tokens.verifySignIn(value);
    } catch {
      return undefined;
    }
    const user = this.options.users.get(claims.name);
    if (!user || user.registration !== claims.registration) return undefined;
    return { user, sid: claims.sid };
  }

  /** Starts a sign-in: the cookie, and the CSRF token of the console page it opens. */
  async signIn(res: Response, user: ConsoleUser): Promise<void> {
    const { value } = await this.options.tokens.issueSignIn(user);
    res.cookie(SIGN_IN_COOKIE, value, this.cookieOptions(this.options.tokens.signInTtlSeconds * 1000));
    res.clearCookie(PRE_SIGN_IN_COOKIE, this.cookieOptions());
  }

  signOut(res: Response): void {
    for (const name of [SIGN_IN_COOKIE, CSRF_COOKIE, PRE_SIGN_IN_COOKIE]) res.clearCookie(name, this.cookieOptions());
  }

  /** The CSRF token of a signed-in console page (bound to its sign-in). */
  csrfTokenFor(req: Request, res: Response, sid: string): string {
    (req as ConsoleRequest).consoleCsrfIdentity = `sid:${sid}`;
    return this.csrf.generateCsrfToken(req, res);
  }

  /** The CSRF token of the sign-in form, bound to a random cookie of its own (login CSRF). */
  signInFormToken(req: Request, res: Response): string {
    let pre = cookieOf(req, PRE_SIGN_IN_COOKIE);
    if (!pre || !/^[A-Za-z0-9_-]{22}$/.test(pre)) {
      pre = randomBytes(16).toString('base64url');
      res.cookie(PRE_SIGN_IN_COOKIE, pre, this.cookieOptions(60 * 60 * 1000));
      (req as Request & { cookies: Record<string, string | undefined> }).cookies[PRE_SIGN_IN_COOKIE] = pre;
    }
    (req as ConsoleRequest).consoleCsrfIdentity = `pre:${pre}`;
    return this.csrf.generateCsrfToken(req, res);
  }

  /** True when a form post (sign-in, sign-out) or an API call carries the CSRF token its cookies say it should. */
  validCsrf(req: Request, binding: { sid: string } | 'pre-sign-in'): boolean {
    if (binding === 'pre-sign-in') {
      const pre = cookieOf(req, PRE_SIGN_IN_COOKIE);
      if (!pre) return false;
      (req as ConsoleRequest).consoleCsrfIdentity = `pre:${pre}`;
    } else {
      (req as ConsoleRequest).consoleCsrfIdentity = `sid:${binding.sid}`;
    }
    return this.csrf.validateRequest(req);
  }

  /**
   * The console API's authentication: a console token in `Authorization: Bearer` (failures
   * counted like the session API's), or the signed-in agent's cookie with, on a state change, the
   * CSRF token. ConsoleSignInRequired, InvalidAccessToken or CsrfTokenInvalid otherwise.
   */
  readonly principal: RequestHandler = async (req, res, next) => {
    const context = contextOf(res);
    const authorization = req.get('authorization');
    if (authorization !== undefined) {
      const subject = { address: context.clientAddress, account: 'bearer:console' };
      this.options.throttle.check(subject);
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      let claims;
      try {
        if (!match) throw new InvalidAccessToken('A console token is required');
        claims = await this.options.tokens.verifyConsoleToken(match[1]!);
      } catch (error) {
        if (!(error instanceof InvalidAccessToken && error.signedByUs)) this.options.throttle.fail(subject);
        throw error;
      }
      const client = this.options.clients.get(claims.clientId);
      if (!client || client.registration !== claims.registration) throw new InvalidAccessToken("The console token's client is no longer registered", true);
      markAuthenticated(context);
      res.locals.consolePrincipal = { mode: 'link', sessionId: claims.sessionId, clientId: claims.clientId, actor: `console:link:${claims.clientId}` } satisfies ConsolePrincipal;
      return next();
    }
    const signedIn = await this.signedIn(req);
    if (!signedIn) throw new ConsoleSignInRequired('Sign in at /console first (or open the console from a console_url)');
    if (req.method !== 'GET' && !this.validCsrf(req, signedIn)) throw new CsrfTokenInvalid('This change needs the CSRF token of the signed-in console page (X-CSRF-Token); reload the page');
    markAuthenticated(context);
    res.locals.consolePrincipal = {
      mode: 'signed-in',
      user: signedIn.user,
      sid: signedIn.sid,
      clientId: CONSOLE_CLIENT_ID,
      actor: `console:${signedIn.user.name}`,
    } satisfies ConsolePrincipal;
    next();
  };
}

/** Who acts, on a route behind ConsoleAuth.principal. */
export function consolePrincipalOf(res: Response): ConsolePrincipal {
  const principal = res.locals.consolePrincipal as ConsolePrincipal | undefined;
  if (!principal) throw new Error('consolePrincipalOf: the route is not behind ConsoleAuth.principal');
  return principal;
}

function cookieOf(req: Request, name: string): string | undefined {
  const value = (req as Request & { cookies?: Record<string, string | undefined> }).cookies?.[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

import { ConsoleLinkInvalid, StreamTicketInvalid } from '../errors';
import type { SessionResource } from './session';
import type { SessionLinks } from './session-links';

/** A stream ticket opens one event stream, within this. */
export const STREAM_TICKET_TTL_MS = 60_000;

export interface ConsoleAccessOptions {
  links: SessionLinks;
  /** PUBLIC_URL: console_url is built on it. */
  publicUrl: string;
  /** CONSOLE_LINK_TTL_S, in milliseconds. */
  linkTtlMs: number;
  now?: () => number;
}

/** A console_url as an answer shows it, once. */
export interface ConsoleLink {
  console_url: string;
  expires_at: string;
}

/**
 * The bearer links of the agent console (decisions items 5 and 6): the `console_url` an API client
 * gets for its session (a one-time code in the URL's fragment, so it reaches no server log, that
 * the page exchanges for a console token), and the single-use tickets that open the page's event
 * streams (EventSource sends no Authorization header). Both are SessionLinks: 256 random bits,
 * stored only as hashes, used once across replicas.
 */
export class ConsoleAccess {
  private readonly now: () => number;

  constructor(private readonly options: ConsoleAccessOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A new console_url for the session; any earlier one not yet opened stops working. */
  async link(sessionId: string): Promise<ConsoleLink> {
    const expiresAt = new Date(this.now() + this.options.linkTtlMs);
    const code = await this.options.links.issue(sessionId, 'console', this.options.linkTtlMs, { replace: true });
    return { console_url: `${this.options.publicUrl.replace(/\/+$/, '')}/console/session#code=${code}`, expires_at: expiresAt.toISOString() };
  }

  /** The session a console_url's code opens: once, while it is valid. */
  async open(code: string): Promise<string> {
    const sessionId = await this.options.links.redeem(code, 'console');
    if (sessionId !== undefined) return sessionId;
    const found = await this.options.links.lookup(code, 'console');
    if (found.found && found.used) throw new ConsoleLinkInvalid('This console link was opened already: a link opens once. Ask for a new one.');
    if (found.found && found.expired) throw new ConsoleLinkInvalid('This console link has expired. Ask for a new one.');
    throw new ConsoleLinkInvalid('This console link is not valid', true);
  }

  /** A ticket for one event stream of the session. */
  async streamTicket(sessionId: string): Promise<{ ticket: string; expires_at: string }> {
    const ticket = await this.options.links.issue(sessionId, 'stream', STREAM_TICKET_TTL_MS);
    return { ticket, expires_at: new Date(this.now() + STREAM_TICKET_TTL_MS).toISOString() };
  }

  /** Uses a stream ticket for this session; StreamTicketInvalid if it is not one (any more). */
  async useStreamTicket(ticket: string, sessionId: string): Promise<void> {
    const ticketSession = await this.options.links.redeem(ticket, 'stream');
    if (ticketSession !== sessionId) throw new StreamTicketInvalid('This event stream ticket is not valid (they open one stream, within a minute)');
  }
}

/**
 * The session as the console shows it: the resource without the saved card's token. The agent
 * needs to know the card was saved, not the token that charges it again (the merchant's system
 * has it from the session API and its webhook).
 */
export function consoleView(session: SessionResource): SessionResource {
  if (!session.result || session.result.token_id === undefined) return session;
  const { token_id: _token, ...result } = session.result;
  return { ...session, result };
}

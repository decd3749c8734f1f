import { createHash, randomBytes } from 'node:crypto';
import type { LinkPurpose, SessionLinkStore } from '../store/session-link-store';

export type { LinkPurpose } from '../store/session-link-store';

/** 256 random bits, base64url: what a bearer link's token always looks like. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** What a presented token turned out to be. */
export type LinkLookup =
  | { found: false }
  | { found: true; sessionId: string; expired: boolean; used: boolean };

/**
 * Bearer links to a session (decisions item 6): a random token that is the only thing in the URL,
 * shown once in the answer that issues it, kept only as its SHA-256 hash (the token has 256 bits of
 * entropy, so a plain hash cannot be reversed and a database dump holds no working link).
 */
export class SessionLinks {
  constructor(
    private readonly store: SessionLinkStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new token for the session, valid for `ttlMs`; with `replace`, the session's unused links of that purpose stop working. */
  async issue(sessionId: string, purpose: LinkPurpose, ttlMs: number, options: { replace?: boolean } = {}): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const now = this.now();
    if (options.replace) await this.store.revoke(sessionId, purpose);
    await this.store.insert(hashOf(token), { sessionId, purpose, expiresAt: now + ttlMs, usedAt: null }, now);
    return token;
  }

  /** Where a token leads, without using it up (links that work more than once, or that answer differently once used). */
  async lookup(token: string, purpose: LinkPurpose): Promise<LinkLookup> {
    if (!TOKEN_SHAPE.test(token)) return { found: false };
    const link = await this.store.find(hashOf(token), purpose);
    if (!link) return { found: false };
    return { found: true, sessionId: link.sessionId, expired: link.expiresAt <= this.now(), used: link.usedAt !== null };
  }

  /** Uses a single-use token: its session for the first caller while it is valid, undefined for everyone else. */
  async redeem(token: string, purpose: LinkPurpose): Promise<string | undefined> {
    if (!TOKEN_SHAPE.test(token)) return undefined;
    const hash = hashOf(token);
    if (!(await this.store.use(hash, purpose, this.now()))) return undefined;
    return (await this.store.find(hash, purpose))?.sessionId;
  }
}

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

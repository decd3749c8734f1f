import type { Sql } from './sql';

/** What a bearer link opens: the console (console_url), an event stream (a one-time ticket), the IVR's TwiML (twiml_url), the payment page (link_url). */
export type LinkPurpose = 'console' | 'stream' | 'twiml' | 'pay';

export interface StoredLink {
  sessionId: string;
  purpose: LinkPurpose;
  /** Epoch ms. */
  expiresAt: number;
  /** Epoch ms of its first use, for the links that work once. */
  usedAt: number | null;
}

interface LinkRow {
  session_id: string;
  purpose: LinkPurpose;
  expires_at: number | string;
  used_at: number | string | null;
}

/** Bearer links by the hash of their token (the token itself is never stored). */
export class SessionLinkStore {
  constructor(private readonly sql: Sql) {}

  async insert(tokenHash: string, link: StoredLink, now: number): Promise<void> {
    await this.sql.run({
      text: 'INSERT INTO session_links (token_hash, session_id, purpose, expires_at, used_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
      params: [tokenHash, link.sessionId, link.purpose, link.expiresAt, link.usedAt, now],
    });
  }

  async find(tokenHash: string, purpose: LinkPurpose): Promise<StoredLink | undefined> {
    const [row] = await this.sql.all<LinkRow>({
      text: 'SELECT session_id, purpose, expires_at, used_at FROM session_links WHERE token_hash = $1 AND purpose = $2',
      params: [tokenHash, purpose],
    });
    return row && { sessionId: row.session_id, purpose: row.purpose, expiresAt: Number(row.expires_at), usedAt: row.used_at === null ? null : Number(row.used_at) };
  }

  /** Marks a link used if it is unused and unexpired: true for exactly one caller, whichever replica it is on. */
  async use(tokenHash: string, purpose: LinkPurpose, now: number): Promise<boolean> {
    const changed = await this.sql.run({
      text: 'UPDATE session_links SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3',
      params: [tokenHash, purpose, now],
    });
    return changed === 1;
  }

  /** Ends a session's unused links for one purpose (a re-issued link replaces the one before). */
  async revoke(sessionId: string, purpose: LinkPurpose): Promise<number> {
    return this.sql.run({ text: 'DELETE FROM session_links WHERE session_id = $1 AND purpose = $2 AND used_at IS NULL', params: [sessionId, purpose] });
  }

  /** Deletes links expired before `before`; returns how many. */
  async prune(before: number): Promise<number> {
    return this.sql.run({ text: 'DELETE FROM session_links WHERE expires_at < $1', params: [before] });
  }
}

import type { Secret } from '../redaction/secret';

/** What an access token may do: create and act on sessions (and read them), or only read them. */
export type Scope = 'sessions:write' | 'sessions:read';

/**
 * Client ids no API client may have: `console` owns the sessions agents start from the signed-in
 * console (decisions item 1), so no API client can read or act on them.
 */
export const RESERVED_CLIENT_IDS: readonly string[] = ['console'];

/** Every scope, in the order an answer lists them. */
export const SCOPES: readonly Scope[] = ['sessions:write', 'sessions:read'];

/** A scope and those it implies: `sessions:write` implies `sessions:read`. */
export function impliedScopes(scopes: readonly Scope[]): Set<Scope> {
  const granted = new Set<Scope>(scopes);
  if (granted.has('sessions:write')) granted.add('sessions:read');
  return granted;
}

/**
 * A client of the session API (a merchant's CRM or agent desktop), as API_CLIENTS_FILE holds it:
 * its secret only as a hash (never here), where its webhooks go and the secret that signs them.
 */
export interface ApiClient {
  clientId: string;
  scopes: Scope[];
  /** Where its webhooks go; none are sent without one. */
  webhookUrl?: string;
  /** Signs its webhooks (Paybridge-Signature). */
  webhookSecret?: Secret;
  /** Also tell it when a session starts capturing and when it starts processing, not only how it ends. */
  progressEvents: boolean;
  /** When it was added (ISO 8601). */
  createdAt: string;
  /**
   * Tells this registration from an earlier one of the same client id (derived from its secret
   * hash): access tokens carry it, so removing a client and adding it again revokes its old tokens.
   */
  registration: string;
}

/** The clients the service knows now (the file is re-read when it changes). */
export interface ApiClients {
  get(clientId: string): ApiClient | undefined;
  list(): ApiClient[];
}

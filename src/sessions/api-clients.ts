import type { Secret } from '../redaction/secret';

/** What an access token may do: create and act on sessions (and read them), or only read them. */
export type Scope = 'sessions:write' | 'sessions:read';

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
}

/** The clients the service knows now (the file is re-read when it changes). */
export interface ApiClients {
  get(clientId: string): ApiClient | undefined;
  list(): ApiClient[];
}

import { createHash } from 'node:crypto';
import type { Logger } from '../logging/logger';
import { secret } from '../redaction/secret';
import { parseSecretHash, SecretChecks, type SecretHash } from '../security/secret-hash';
import { SecretRegistry } from '../security/secret-registry';
import type { ApiClient, ApiClients } from './api-clients';
import { describeFileProblems, parseApiClientsFile, type ApiClientEntry, type ApiClientsDocument } from './api-clients-file';
import { WATCHED_FILE_POLL_INTERVAL_MS, WatchedFile } from './watched-file';

/** How often the file is looked at (one stat) in case fs.watch misses a change, as it can on network and container file systems. */
export const API_CLIENTS_POLL_INTERVAL_MS = WATCHED_FILE_POLL_INTERVAL_MS;

export interface ApiClientRegistryOptions {
  /** API_CLIENTS_FILE (config.apiClientsFile). */
  file: string;
  logger: Logger;
  pollIntervalMs?: number;
  /** Watch the file's folder (default); off, only the periodic stat notices changes. */
  watch?: boolean;
  secretChecks?: SecretChecks;
}

/**
 * The session API's clients, from API_CLIENTS_FILE (decisions item 8). Read at start, where an
 * invalid file stops start-up and a missing one means no clients; then re-read when it changes
 * (WatchedFile), validated the same way: an invalid file keeps the last good clients and logs
 * why, by JSON path, never a value.
 */
export class ApiClientRegistry implements ApiClients {
  private readonly clients: SecretRegistry<ApiClient>;
  private readonly watched: WatchedFile<ApiClientsDocument>;

  constructor(options: ApiClientRegistryOptions) {
    this.clients = new SecretRegistry(options.secretChecks ?? new SecretChecks());
    this.watched = new WatchedFile<ApiClientsDocument>({
      file: options.file,
      logger: options.logger,
      label: 'api clients',
      whenMissing: 'no session API clients',
      keeping: 'the last good clients',
      describeProblems: describeFileProblems,
      parse: parseApiClientsFile,
      apply: (document) => {
        this.clients.replace(document.clients.map(registered));
        return { clients: this.clients.size };
      },
      clear: () => this.clients.replace([]),
      permissionWarning: 'api clients file is readable by other users; it holds webhook secrets: chmod 600 it',
      pollIntervalMs: options.pollIntervalMs,
      watch: options.watch,
    });
  }

  get file(): string {
    return this.watched.file;
  }

  get(clientId: string): ApiClient | undefined {
    return this.clients.get(clientId);
  }

  list(): ApiClient[] {
    return this.clients.values();
  }

  /**
   * The client whose secret this is, or undefined. Unknown ids are compared against a dummy hash
   * so that they cost what known ones do; checks run a bounded number at a time, and one beyond
   * the queue is refused at once with TOO_MANY_CREDENTIAL_CHECKS.
   */
  async authenticate(clientId: string, clientSecret: string): Promise<ApiClient | undefined> {
    return this.clients.authenticate(clientId, clientSecret);
  }

  /** Reads the file again now (the watcher and the poll call this; so may an operator's command). */
  reload(): Promise<void> {
    return this.watched.reload();
  }

  close(): Promise<void> {
    return this.watched.close();
  }
}

function registered(entry: ApiClientEntry): { name: string; value: ApiClient; hash: SecretHash } {
  return {
    name: entry.client_id,
    hash: parseSecretHash(entry.secret_hash) as SecretHash, // checked by parseApiClientsFile
    value: {
      clientId: entry.client_id,
      scopes: [...entry.scopes],
      webhookUrl: entry.webhook_url,
      webhookSecret: entry.webhook_secret === undefined ? undefined : secret.hidden(entry.webhook_secret),
      progressEvents: entry.progress_events ?? false,
      createdAt: entry.created_at,
      registration: createHash('sha256').update(entry.secret_hash).digest('base64url').slice(0, 16),
    },
  };
}

import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors';
import type { Logger } from '../logging/logger';
import { secret } from '../redaction/secret';
import { hashSecret, parseSecretHash, SecretChecks, type SecretHash } from '../security/secret-hash';
import type { ApiClient, ApiClients } from './api-clients';
import { describeFileProblems, parseApiClientsFile, type ApiClientEntry, type ApiClientsDocument } from './api-clients-file';

/** How often the file is looked at (one stat) in case fs.watch misses a change, as it can on network and container file systems. */
export const API_CLIENTS_POLL_INTERVAL_MS = 2000;
/** Editors and the CLI touch the file in several steps: one reload after they settle. */
const WATCH_SETTLE_MS = 100;

export interface ApiClientRegistryOptions {
  /** API_CLIENTS_FILE (config.apiClientsFile). */
  file: string;
  logger: Logger;
  pollIntervalMs?: number;
  /** Watch the file's folder (default); off, only the periodic stat notices changes. */
  watch?: boolean;
  secretChecks?: SecretChecks;
}

interface Registered {
  client: ApiClient;
  secretHash: SecretHash;
}

/**
 * The session API's clients, from API_CLIENTS_FILE (decisions item 8). Read at start, where an
 * invalid file stops start-up and a missing one means no clients; then re-read when it changes
 * (fs.watch on its folder, and a periodic stat as a fallback), validated the same way: an invalid
 * file keeps the last good clients and logs why, by JSON path, never a value.
 */
export class ApiClientRegistry implements ApiClients {
  private clients = new Map<string, Registered>();
  /** The text last read (undefined: no file): a change that changes nothing is not reloaded or logged again. */
  private lastText?: string;
  private lastSignature = 'missing';
  private watcher?: fs.FSWatcher;
  private settleTimer?: NodeJS.Timeout;
  private readonly pollTimer: NodeJS.Timeout;
  private reloading?: Promise<void>;
  private reloadAgain = false;
  private closed = false;
  private readonly checks: SecretChecks;
  /** Unknown client ids are checked against this, so that they take as long as known ones. */
  private readonly unknownClientHash: SecretHash;

  constructor(private readonly options: ApiClientRegistryOptions) {
    this.checks = options.secretChecks ?? new SecretChecks();
    this.unknownClientHash = parseSecretHash(hashSecret(randomBytes(32).toString('base64url'))) as SecretHash;
    this.loadAtStart();
    if (options.watch !== false) this.watch();
    this.pollTimer = setInterval(() => void this.poll(), options.pollIntervalMs ?? API_CLIENTS_POLL_INTERVAL_MS);
    this.pollTimer.unref();
  }

  get file(): string {
    return this.options.file;
  }

  get(clientId: string): ApiClient | undefined {
    return this.clients.get(clientId)?.client;
  }

  list(): ApiClient[] {
    return [...this.clients.values()].map(({ client }) => client);
  }

  /**
   * The client whose secret this is, or undefined. Unknown ids are compared against a dummy hash
   * so that they cost what known ones do; checks run a bounded number at a time, and one beyond
   * the queue is refused at once with TOO_MANY_CREDENTIAL_CHECKS.
   */
  async authenticate(clientId: string, clientSecret: string): Promise<ApiClient | undefined> {
    const registered = this.clients.get(clientId);
    const matches = await this.checks.matches(clientSecret, registered?.secretHash ?? this.unknownClientHash);
    if (!matches || !registered) return undefined;
    // Removed or re-registered while its secret was being checked: the file now says otherwise.
    return this.get(clientId)?.registration === registered.client.registration ? registered.client : undefined;
  }

  /** Reads the file again now (the watcher and the poll call this; so may an operator's command). */
  reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      try {
        do {
          this.reloadAgain = false;
          await this.readAndApply();
        } while (this.reloadAgain && !this.closed);
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.settleTimer);
    this.watcher?.close();
    await this.reloading;
  }

  private loadAtStart(): void {
    const { file, logger } = this.options;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`Invalid configuration: ${describeFileProblems(file, [unreadable(error)])}`);
      logger.info('api clients file not found: no session API clients', { file });
      return;
    }
    this.lastSignature = signature(file);
    const reading = parseApiClientsFile(text);
    if (reading.state !== 'valid') throw new ConfigError(`Invalid configuration: ${describeFileProblems(file, reading.state === 'invalid' ? reading.problems : [])}`);
    this.apply(text, reading.document);
  }

  private async readAndApply(): Promise<void> {
    const { file, logger } = this.options;
    this.lastSignature = signature(file);
    let text: string;
    try {
      text = await fs.promises.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        logger.warn('api clients file unreadable; keeping the last good clients', { file, problems: [unreadable(error)] });
        return;
      }
      if (this.lastText === undefined) return;
      this.lastText = undefined;
      this.clients = new Map();
      logger.warn('api clients file removed: no session API clients', { file });
      return;
    }
    if (this.closed || text === this.lastText) return;
    this.lastText = text;
    const reading = parseApiClientsFile(text);
    if (reading.state !== 'valid') {
      const problems = reading.state === 'invalid' ? reading.problems : [];
      logger.warn('api clients file invalid; keeping the last good clients', { file, problems });
      return;
    }
    this.apply(text, reading.document);
  }

  private apply(text: string, document: ApiClientsDocument): void {
    const { file, logger } = this.options;
    this.lastText = text;
    this.clients = new Map(document.clients.map((entry) => [entry.client_id, registered(entry)]));
    logger.info('api clients loaded', { file, clients: this.clients.size });
    const mode = statMode(file);
    if (mode !== undefined && (mode & 0o077) !== 0) {
      logger.warn('api clients file is readable by other users; it holds webhook secrets: chmod 600 it', { file, mode: mode.toString(8) });
    }
  }

  /** Watches the folder, not the file: the CLI replaces the file by a rename, which ends a watch on the file itself. */
  private watch(): void {
    const { file } = this.options;
    try {
      this.watcher = fs.watch(path.dirname(file), { persistent: false }, (_event, name) => {
        if (name !== null && name !== path.basename(file)) return;
        clearTimeout(this.settleTimer);
        this.settleTimer = setTimeout(() => void this.reload(), WATCH_SETTLE_MS);
        this.settleTimer.unref();
      });
      this.watcher.on('error', () => {
        // The folder went away or the platform gave up: the poll carries on, and watches again later.
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined; // no folder yet: the poll notices the file when it comes
    }
  }

  private async poll(): Promise<void> {
    if (this.closed) return;
    if (this.options.watch !== false && !this.watcher) this.watch();
    if (signature(this.options.file) !== this.lastSignature) await this.reload();
  }
}

function registered(entry: ApiClientEntry): Registered {
  return {
    secretHash: parseSecretHash(entry.secret_hash) as SecretHash, // checked by parseApiClientsFile
    client: {
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

/** Identity, size and time of the file: a rename over it, or an edit in place, changes it. */
function signature(file: string): string {
  try {
    const stat = fs.statSync(file, { bigint: true });
    return `${stat.ino}:${stat.size}:${stat.mtimeNs}`;
  } catch {
    return 'missing';
  }
}

function statMode(file: string): number | undefined {
  if (process.platform === 'win32') return undefined;
  try {
    return fs.statSync(file).mode & 0o777;
  } catch {
    return undefined;
  }
}

function unreadable(error: unknown): string {
  return `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
}

import { createHash } from 'node:crypto';
import type { Logger } from '../logging/logger';
import { parseSecretHash, SecretChecks, type SecretHash } from '../security/secret-hash';
import { SecretRegistry } from '../security/secret-registry';
import { describeConsoleUsersProblems, MAX_PASSWORD_LENGTH, parseConsoleUsersFile, PASSWORD_SCRYPT, type ConsoleUserEntry, type ConsoleUsersDocument } from './console-users-file';
import { WatchedFile } from './watched-file';

/** An agent who may sign in to the console. */
export interface ConsoleUser {
  name: string;
  /**
   * Tells this registration from an earlier one of the same name (derived from the password
   * hash): the sign-in cookie carries it, so removing a user, or setting a new password, ends
   * the user's signed-in consoles.
   */
  registration: string;
}

export interface ConsoleUsersOptions {
  /** CONSOLE_USERS_FILE. */
  file: string;
  logger: Logger;
  pollIntervalMs?: number;
  watch?: boolean;
  secretChecks?: SecretChecks;
}

/**
 * The console's agents, from CONSOLE_USERS_FILE (decisions item 8: re-read when it changes, an
 * invalid file keeps the last good users and logs why). A missing file means nobody can sign in;
 * the console_url way in needs no user.
 */
export class ConsoleUsers {
  private readonly users: SecretRegistry<ConsoleUser>;
  private readonly watched: WatchedFile<ConsoleUsersDocument>;

  constructor(options: ConsoleUsersOptions) {
    this.users = new SecretRegistry(options.secretChecks ?? new SecretChecks(), PASSWORD_SCRYPT);
    this.watched = new WatchedFile<ConsoleUsersDocument>({
      file: options.file,
      logger: options.logger,
      label: 'console users',
      whenMissing: 'nobody can sign in to the console',
      keeping: 'the last good users',
      describeProblems: describeConsoleUsersProblems,
      parse: parseConsoleUsersFile,
      apply: (document) => {
        this.users.replace(document.users.map(registered));
        return { users: this.users.size };
      },
      clear: () => this.users.replace([]),
      permissionWarning: 'console users file is readable by other users; it holds password hashes: chmod 600 it',
      pollIntervalMs: options.pollIntervalMs,
      watch: options.watch,
    });
  }

  get(name: string): ConsoleUser | undefined {
    return this.users.get(name);
  }

  get size(): number {
    return this.users.size;
  }

  /**
   * The user whose password this is, or undefined. Unknown names cost what known ones do; checks
   * run a bounded number at a time (TOO_MANY_CREDENTIAL_CHECKS beyond the queue). A password
   * longer than anyone types is refused without hashing it.
   */
  async authenticate(name: string, password: string): Promise<ConsoleUser | undefined> {
    if (password.length === 0 || password.length > MAX_PASSWORD_LENGTH) return undefined;
    return this.users.authenticate(name, password);
  }

  reload(): Promise<void> {
    return this.watched.reload();
  }

  close(): Promise<void> {
    return this.watched.close();
  }
}

function registered(entry: ConsoleUserEntry): { name: string; value: ConsoleUser; hash: SecretHash } {
  return {
    name: entry.name,
    hash: parseSecretHash(entry.password_hash) as SecretHash, // checked by parseConsoleUsersFile
    value: { name: entry.name, registration: createHash('sha256').update(entry.password_hash).digest('base64url').slice(0, 16) },
  };
}

import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '../logging/logger';
import { hashSecret, parseSecretHash, SecretChecks, type SecretHash } from '../security/secret-hash';
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

interface Registered {
  user: ConsoleUser;
  passwordHash: SecretHash;
}

/**
 * The console's agents, from CONSOLE_USERS_FILE (decisions item 8: re-read when it changes, an
 * invalid file keeps the last good users and logs why). A missing file means nobody can sign in;
 * the console_url way in needs no user.
 */
export class ConsoleUsers {
  private users = new Map<string, Registered>();
  private readonly watched: WatchedFile<ConsoleUsersDocument>;
  private readonly checks: SecretChecks;
  /** Unknown names are checked against this, so that they take as long as known ones. */
  private readonly unknownUserHash: SecretHash;

  constructor(options: ConsoleUsersOptions) {
    this.checks = options.secretChecks ?? new SecretChecks();
    this.unknownUserHash = parseSecretHash(hashSecret(randomBytes(32).toString('base64url'), PASSWORD_SCRYPT)) as SecretHash;
    this.watched = new WatchedFile<ConsoleUsersDocument>({
      file: options.file,
      logger: options.logger,
      label: 'console users',
      whenMissing: 'nobody can sign in to the console',
      keeping: 'the last good users',
      describeProblems: describeConsoleUsersProblems,
      parse: parseConsoleUsersFile,
      apply: (document) => {
        this.users = new Map(document.users.map((entry) => [entry.name, registered(entry)]));
        return { users: this.users.size };
      },
      clear: () => {
        this.users = new Map();
      },
      permissionWarning: 'console users file is readable by other users; it holds password hashes: chmod 600 it',
      pollIntervalMs: options.pollIntervalMs,
      watch: options.watch,
    });
  }

  get(name: string): ConsoleUser | undefined {
    return this.users.get(name)?.user;
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
    const registered = this.users.get(name);
    if (password.length === 0 || password.length > MAX_PASSWORD_LENGTH) return undefined;
    const matches = await this.checks.matches(password, registered?.passwordHash ?? this.unknownUserHash);
    if (!matches || !registered) return undefined;
    // Removed or changed while the password was being checked: the file now says otherwise.
    return this.get(name)?.registration === registered.user.registration ? registered.user : undefined;
  }

  reload(): Promise<void> {
    return this.watched.reload();
  }

  close(): Promise<void> {
    return this.watched.close();
  }
}

function registered(entry: ConsoleUserEntry): Registered {
  return {
    passwordHash: parseSecretHash(entry.password_hash) as SecretHash, // checked by parseConsoleUsersFile
    user: { name: entry.name, registration: createHash('sha256').update(entry.password_hash).digest('base64url').slice(0, 16) },
  };
}

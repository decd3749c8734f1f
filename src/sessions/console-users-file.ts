import { createAjv } from '../ajv';
import { parseSecretHash, SECRET_HASH_PATTERN } from '../security/secret-hash';
import { parseEntriesFile, readWatchedFile, writeFileAtomically, type FileReading } from './watched-file';

/**
 * CONSOLE_USERS_FILE: the agents who may sign in to the payment console, written by
 * `npm run console:user` and read by the service at start and whenever it changes. Passwords are
 * kept only as scrypt hashes (PASSWORD_SCRYPT).
 *
 * ```json
 * {"users": [{"name": "alice", "password_hash": "scrypt$32768$8$3$<salt>$<hash>", "created_at": "2026-11-02T10:00:00.000Z"}]}
 * ```
 */
export interface ConsoleUserEntry {
  name: string;
  password_hash: string;
  created_at: string;
}

export interface ConsoleUsersDocument {
  users: ConsoleUserEntry[];
}

/** Safe in a log line and a history actor (`console:alice`): no `:`, no space. */
export const CONSOLE_USER_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

/**
 * scrypt for passwords people choose: OWASP's N=2^15, r=8, p=3 (32 MiB, about a third of a second
 * here), where API client secrets (256 random bits) need only the interactive default.
 */
export const PASSWORD_SCRYPT = { N: 2 ** 15, r: 8, p: 3 } as const;

/** A password shorter than this is refused by the CLI. */
export const MIN_PASSWORD_LENGTH = 12;
/** Longer is not a password anyone types; it only costs hashing time. */
export const MAX_PASSWORD_LENGTH = 1024;

export const consoleUsersFileSchema = {
  type: 'object',
  required: ['users'],
  additionalProperties: false,
  properties: {
    users: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        required: ['name', 'password_hash', 'created_at'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: CONSOLE_USER_NAME_PATTERN },
          password_hash: { type: 'string', maxLength: 512, pattern: SECRET_HASH_PATTERN },
          created_at: { type: 'string', format: 'date-time' },
        },
      },
    },
  },
} as const;

const validate = createAjv().compile<ConsoleUsersDocument>(consoleUsersFileSchema);

export function readConsoleUsersFile(file: string): FileReading<ConsoleUsersDocument> {
  return readWatchedFile(file, parseConsoleUsersFile);
}

export function parseConsoleUsersFile(text: string): FileReading<ConsoleUsersDocument> {
  return parseEntriesFile(text, {
    validate,
    list: 'users',
    entries: (document) => document.users,
    nameField: 'name',
    nameOf: (user) => user.name,
    problemsOf: (user) => {
      const hash = parseSecretHash(user.password_hash);
      return typeof hash === 'string' ? [`password_hash: ${hash}`] : [];
    },
  });
}

/** `CONSOLE_USERS_FILE /data/console-users.json: users[0].name: must match pattern ...` */
export function describeConsoleUsersProblems(file: string, problems: readonly string[]): string {
  return `CONSOLE_USERS_FILE ${file}: ${problems.join('; ')}`;
}

export function writeConsoleUsersFile(file: string, document: ConsoleUsersDocument): void {
  writeFileAtomically(file, `${JSON.stringify(document, null, 2)}\n`);
}

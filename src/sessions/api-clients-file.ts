import { createAjv } from '../ajv';
import { isLoopback } from '../mapping/connectors';
import { parseSecretHash, SECRET_HASH_PATTERN } from '../security/secret-hash';
import { RESERVED_CLIENT_IDS, SCOPES, type Scope } from './api-clients';
import { parseEntriesFile, readWatchedFile, writeFileAtomically, type FileReading } from './watched-file';

/**
 * API_CLIENTS_FILE: the session API's clients, written by `npm run api-clients` (mode 0600: it
 * holds the webhook secrets in clear) and read by the service at start and whenever it changes.
 *
 * ```json
 * {"clients": [{"client_id": "crm", "secret_hash": "scrypt$16384$8$1$<salt>$<hash>", "scopes": ["sessions:write"],
 *   "webhook_url": "https://crm.example.com/paybridge", "webhook_secret": "...", "progress_events": false,
 *   "created_at": "2026-11-02T10:00:00.000Z"}]}
 * ```
 */
export interface ApiClientEntry {
  client_id: string;
  secret_hash: string;
  scopes: Scope[];
  webhook_url?: string;
  webhook_secret?: string;
  progress_events?: boolean;
  created_at: string;
}

export interface ApiClientsDocument {
  clients: ApiClientEntry[];
}

/** Safe in a Basic username (no `:`), a URL, a log line and a file name. */
export const CLIENT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

export const apiClientsFileSchema = {
  type: 'object',
  required: ['clients'],
  additionalProperties: false,
  properties: {
    clients: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        required: ['client_id', 'secret_hash', 'scopes', 'created_at'],
        additionalProperties: false,
        properties: {
          client_id: { type: 'string', pattern: CLIENT_ID_PATTERN },
          secret_hash: { type: 'string', maxLength: 512, pattern: SECRET_HASH_PATTERN },
          scopes: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...SCOPES] } },
          webhook_url: { type: 'string', maxLength: 2048, format: 'uri', pattern: '^https?://' },
          webhook_secret: { type: 'string', minLength: 32, maxLength: 256 },
          progress_events: { type: 'boolean' },
          created_at: { type: 'string', format: 'date-time' },
        },
        // A webhook is signed: no URL without the secret that signs what is sent there.
        dependencies: { webhook_url: ['webhook_secret'] },
      },
    },
  },
} as const;

const validate = createAjv().compile<ApiClientsDocument>(apiClientsFileSchema);

/** What reading the file found. Problems name the JSON path and the rule, never a value. */
export type ApiClientsReading = FileReading<ApiClientsDocument>;

export function readApiClientsFile(file: string): ApiClientsReading {
  return readWatchedFile(file, parseApiClientsFile);
}

export function parseApiClientsFile(text: string): ApiClientsReading {
  return parseEntriesFile(text, {
    validate,
    list: 'clients',
    entries: (document) => document.clients,
    nameField: 'client_id',
    nameOf: (client) => client.client_id,
    problemsOf: (client) => {
      const problems: string[] = [];
      if (RESERVED_CLIENT_IDS.includes(client.client_id)) problems.push(`client_id: ${client.client_id} is reserved (the agent console's own sessions)`);
      const hash = parseSecretHash(client.secret_hash);
      if (typeof hash === 'string') problems.push(`secret_hash: ${hash}`);
      const webhook = client.webhook_url === undefined ? undefined : webhookUrlProblem(client.webhook_url);
      if (webhook) problems.push(`webhook_url: ${webhook}`);
      return problems;
    },
  });
}

/**
 * Webhooks carry payment results: https, as every other outbound call of the service, except to
 * loopback (a receiver on the same host). Credentials in the URL would end up in logs.
 */
export function webhookUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) return 'must be https:// (http:// only on loopback)';
  if (url.username !== '' || url.password !== '') return 'must not hold credentials';
  if (url.hash !== '') return 'must not have a fragment';
  return undefined;
}

/** `API_CLIENTS_FILE /data/api-clients.json: clients[0].scopes[0]: must be equal to one of the allowed values` */
export function describeFileProblems(file: string, problems: readonly string[]): string {
  return `API_CLIENTS_FILE ${file}: ${problems.join('; ')}`;
}

/** Writes the whole file at once (writeFileAtomically: mode 0600, a rename over the old one). */
export function writeApiClientsFile(file: string, document: ApiClientsDocument): void {
  writeFileAtomically(file, `${JSON.stringify(document, null, 2)}\n`);
}

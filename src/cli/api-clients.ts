import { randomBytes } from 'node:crypto';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config/settings';
import { BridgeError, StartupError } from '../errors';
import { hashSecret } from '../security/secret-hash';
import { RESERVED_CLIENT_IDS, SCOPES, type Scope } from '../sessions/api-clients';
import {
  CLIENT_ID_PATTERN,
  describeFileProblems,
  readApiClientsFile,
  webhookUrlProblem,
  writeApiClientsFile,
  type ApiClientEntry,
  type ApiClientsDocument,
} from '../sessions/api-clients-file';

/**
 * `npm run api-clients -- add crm --scope sessions:write --webhook-url https://crm.example.com/paybridge`:
 * manages API_CLIENTS_FILE, which the running service re-reads when it changes. `add` prints the
 * new client's secrets once, as JSON; the file keeps the client secret only as a scrypt hash.
 */
const program = new Command('api-clients').description('Manage the session API clients (API_CLIENTS_FILE).').showHelpAfterError();

program
  .command('add')
  .description('Add a client and print its client_secret and webhook_secret (shown this once)')
  .argument('<client_id>', 'letters, digits, ".", "_" and "-", up to 64')
  .addOption(new Option('--scope <scope>', `a scope it may ask for (${SCOPES.join(', ')}); repeat for several`).argParser(collectScope).makeOptionMandatory())
  .option('--webhook-url <url>', 'where its webhooks go (https://, or http:// on loopback)')
  .option('--progress-events', 'also send webhooks when a session starts capturing and processing', false)
  .action((clientId: string, options: { scope: Scope[]; webhookUrl?: string; progressEvents: boolean }) => {
    if (!new RegExp(CLIENT_ID_PATTERN).test(clientId)) throw new StartupError('client_id may have letters, digits, ".", "_" and "-" (up to 64), starting with a letter or digit');
    if (RESERVED_CLIENT_IDS.includes(clientId)) throw new StartupError(`${clientId} is reserved: the agent console's own sessions belong to it`);
    const urlProblem = options.webhookUrl === undefined ? undefined : webhookUrlProblem(options.webhookUrl);
    if (urlProblem) throw new StartupError(`--webhook-url ${urlProblem}`);
    const { file, document } = currentFile();
    if (document.clients.some((client) => client.client_id === clientId)) throw new StartupError(`a client named ${clientId} already exists; remove it first to replace it`);
    const clientSecret = newSecret();
    const webhookSecret = newSecret();
    const entry: ApiClientEntry = {
      client_id: clientId,
      secret_hash: hashSecret(clientSecret),
      scopes: options.scope,
      ...(options.webhookUrl === undefined ? {} : { webhook_url: options.webhookUrl }),
      webhook_secret: webhookSecret,
      progress_events: options.progressEvents,
      created_at: new Date().toISOString(),
    };
    writeApiClientsFile(file, { clients: [...document.clients, entry] });
    process.stdout.write(`${JSON.stringify({ client_id: clientId, client_secret: clientSecret, webhook_secret: webhookSecret })}\n`);
  });

program
  .command('list')
  .description('List the clients as JSON (no secret, no hash)')
  .action(() => {
    const { document } = currentFile();
    const clients = document.clients.map(({ client_id, scopes, webhook_url, progress_events, created_at }) => ({
      client_id,
      scopes,
      webhook_url: webhook_url ?? null,
      progress_events: progress_events ?? false,
      created_at,
    }));
    process.stdout.write(`${JSON.stringify(clients, null, 2)}\n`);
  });

program
  .command('remove')
  .description('Remove a client: its access tokens stop working as soon as the service re-reads the file')
  .argument('<client_id>')
  .action((clientId: string) => {
    const { file, document } = currentFile();
    const clients = document.clients.filter((client) => client.client_id !== clientId);
    if (clients.length === document.clients.length) throw new StartupError(`no client named ${clientId}`);
    writeApiClientsFile(file, { clients });
    process.stdout.write(`removed ${clientId}\n`);
  });

/** The file as it is; a missing one is empty, an invalid one is never overwritten. */
function currentFile(): { file: string; document: ApiClientsDocument } {
  const file = loadConfig().apiClientsFile;
  const reading = readApiClientsFile(file);
  if (reading.state === 'missing') return { file, document: { clients: [] } };
  if (reading.state === 'invalid') throw new StartupError(`${describeFileProblems(file, reading.problems)}; fix it first`);
  return { file, document: reading.document };
}

/** 256 random bits. */
function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

function collectScope(value: string, previous: Scope[] | undefined): Scope[] {
  if (!(SCOPES as readonly string[]).includes(value)) throw new InvalidArgumentError(`It must be one of ${SCOPES.join(', ')}.`);
  return [...new Set([...(previous ?? []), value as Scope])];
}

program.parseAsync(process.argv).catch((error: unknown) => {
  const known = error instanceof BridgeError || error instanceof StartupError;
  process.stderr.write(`api-clients: ${known ? (error as Error).message : `failed (${(error as Error)?.name ?? 'error'})`}\n`);
  process.exit(1);
});

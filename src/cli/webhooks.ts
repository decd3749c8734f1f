import Table from 'cli-table3';
import { Command, Option } from 'commander';
import { loadConfig } from '../config/settings';
import { BridgeError, StartupError } from '../errors';
import { WEBHOOK_STATUSES, type PresentedWebhookEvent } from '../store/webhook-outbox';

/**
 * `npm run webhooks -- list --status failed` and `npm run webhooks -- retry evt_...`: the webhook
 * outbox through the running service's admin API (ADMIN_TOKEN), never its database, so a retry
 * reaches the worker that delivers (decisions item 8).
 */
const COLUMNS: Array<keyof PresentedWebhookEvent> = [
  'created_at',
  'id',
  'type',
  'session_id',
  'client_id',
  'status',
  'attempts',
  'next_attempt_at',
  'last_error',
  'delivered_at',
];
const REQUEST_TIMEOUT_MS = 15_000;

/** A failure this CLI explains itself. */
class CliError extends Error {}

const program = new Command('webhooks')
  .description("Show and retry the service's webhook events (through its admin API; needs ADMIN_TOKEN).")
  .showHelpAfterError();

const urlOption = () => new Option('--url <url>', 'where the service is (default http://127.0.0.1:<PORT>)');

program
  .command('list')
  .description('List webhook events, newest first')
  .addOption(new Option('--status <status>', 'only this status').choices([...WEBHOOK_STATUSES]))
  .option('--session <id>', 'only the events of this session')
  .option('--client <id>', 'only the events of this API client')
  .option('--limit <n>', 'at most this many events', '100')
  .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
  .addOption(urlOption())
  .action(async (options: Record<string, string | undefined>) => {
    const query = new URLSearchParams();
    for (const [name, value] of [['status', options.status], ['session_id', options.session], ['client_id', options.client], ['limit', options.limit]]) {
      if (value !== undefined) query.set(name!, value);
    }
    const { events } = (await callAdminApi('GET', `/admin/webhooks?${query}`, options.url)) as { events: PresentedWebhookEvent[] };
    process.stdout.write(render(events, options.format ?? 'table'));
  });

program
  .command('retry')
  .description('Send a failed (or pending) event again now')
  .argument('<event-id>', 'the evt_... id')
  .addOption(urlOption())
  .action(async (eventId: string, options: Record<string, string | undefined>) => {
    const event = (await callAdminApi('POST', `/admin/webhooks/${encodeURIComponent(eventId)}/retry`, options.url)) as PresentedWebhookEvent;
    process.stdout.write(`${event.id} is pending again: it is sent now\n`);
  });

async function callAdminApi(method: 'GET' | 'POST', path: string, url: string | undefined): Promise<unknown> {
  const config = loadConfig();
  if (!config.adminToken) throw new CliError('ADMIN_TOKEN is not set: it is what the admin API of the running service requires (the same value as the service)');
  const base = (url ?? `http://127.0.0.1:${config.port}`).replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${config.adminToken}`, Accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch {
    throw new CliError(`the service is not reachable at ${base} (is it running? --url says where it is)`);
  }
  const answer = (await response.json().catch(() => undefined)) as { error_code?: string; error_message?: string } | undefined;
  // The service's answer to a path it does not serve: the admin API is off there.
  if (response.status === 404 && answer?.error_message?.startsWith('No such path')) {
    throw new CliError(`the service at ${base} has no webhook admin API (is ADMIN_TOKEN set there?)`);
  }
  if (!response.ok || answer === undefined) {
    const why = answer?.error_message ? `${answer.error_code}: ${answer.error_message}` : `HTTP ${response.status}`;
    throw new CliError(response.status === 401 ? `the service refused ADMIN_TOKEN (${why})` : why);
  }
  return answer;
}

function render(events: PresentedWebhookEvent[], format: string): string {
  if (format === 'json') return `${JSON.stringify(events, null, 2)}\n`;
  const table = new Table({ head: COLUMNS as string[], style: { head: [], border: [] } });
  table.push(...events.map((event) => COLUMNS.map((column) => String(event[column] ?? ''))));
  return `${table.toString()}\n${events.length} event(s)\n`;
}

program.parseAsync(process.argv).catch((error: unknown) => {
  const known = error instanceof CliError || error instanceof BridgeError || error instanceof StartupError;
  process.stderr.write(`webhooks: ${known ? (error as Error).message : `failed (${(error as Error)?.name ?? 'error'})`}\n`);
  process.exit(1);
});

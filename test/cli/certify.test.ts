import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expectNoSecrets } from '../helpers/leaks';
import { RecordingGateway } from '../helpers/recording-gateway';
import { REPO_ROOT, startService, type TestService } from '../helpers/service';
import { ACCESS_KEY, ACCOUNT_ID } from '../helpers/test-data';

/** The certification kit, run as a merchant would, against the service on its embedded sandbox. */
const run = promisify(execFile);
const CERTIFY = path.join(REPO_ROOT, 'dist', 'cli', 'certify.js');
const CERTIFY_SH = path.join(REPO_ROOT, 'scripts', 'certify.sh');

type Outcome = { code: number; stdout: string; stderr: string };
const outcome = (call: Promise<{ stdout: string; stderr: string }>): Promise<Outcome> =>
  call.then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (error: Outcome) => error);

const certify = (url: string, report: string) =>
  outcome(run(process.execPath, [CERTIFY, '--url', url, '--username', ACCOUNT_ID, '--password', ACCESS_KEY, '--report', report]));
const certifySh = (url: string) => outcome(run('bash', [CERTIFY_SH, url, ACCOUNT_ID, ACCESS_KEY]));

describe('against the service on its embedded sandbox', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startService({ LOG_LEVEL: 'warn' });
  });
  afterAll(async () => {
    await service.stop();
  });

  test('when `npm run certify` runs the sandbox suite, then every case passes and the report masks card data', async () => {
    const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'certify-')), 'report.json');
    const result = await certify(service.url, report);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^20 passed, 0 failed$/m);
    const written = fs.readFileSync(report, 'utf8');
    expect(JSON.parse(written)).toMatchObject({ suite: 'sandbox', passed: 20, failed: 0 });
    expect(written).toContain('"request": "charge ****1111"');
    expectNoSecrets([written, result.stdout, result.stderr].join('\n'));
    // stderr is a pipe here, not a terminal: progress is one readable line per case, no bar.
    const progress = result.stderr.trim().split('\n');
    expect(progress).toHaveLength(20);
    expect(progress[0]).toBe('certify  1/20 PASS charge Visa test card');
    expect(progress[19]).toMatch(/^certify 20\/20 PASS \S/);
  }, 60_000);

  test('when scripts/certify.sh runs, then every check passes with plain curl', async () => {
    const result = await certifySh(service.url);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^8 passed, 0 failed$/m);
  }, 60_000);
});

describe('against a service whose gateway answers wrongly', () => {
  const gateway = new RecordingGateway();
  let service: TestService;
  beforeAll(async () => {
    await gateway.start();
    gateway.willAnswer({ body: JSON.stringify({ transaction_approved: false, error: true, error_code: 99, error_message: 'SYSTEM FAULT' }) });
    service = await startService({ LOG_LEVEL: 'warn', GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8` });
  });
  afterAll(async () => {
    await service.stop();
    await gateway.stop();
  });

  test('when `npm run certify` runs, then it exits 1 and says why each case failed', async () => {
    const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'certify-')), 'report.json');
    const result = await certify(service.url, report);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/charge Visa test card\s+│ FAIL\s+│ error_code "99": SYSTEM FAULT/);
    expect(result.stdout).toMatch(/decline at 1\.01\s+│ FAIL\s+│ error_code "99", expected "30002"/);
    expect(result.stderr).toMatch(/^certify {2}1\/20 FAIL charge Visa test card$/m);
    const written = JSON.parse(fs.readFileSync(report, 'utf8')) as { failed: number };
    expect(written.failed).toBeGreaterThan(5);
  }, 60_000);

  test('when scripts/certify.sh runs, then it exits 1 with FAIL lines', async () => {
    const result = await certifySh(service.url);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL {2}card charge: expected HTTP 200 matching .*error_code":"99"/m);
  }, 60_000);
});

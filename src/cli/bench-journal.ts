import { loadBenchSettings } from '../config/tool-settings';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { approvedAnswer } from '../contract/connector-answer';
import type { NewClaim, TransactionJournal } from '../store/journal';
import { openPostgresJournal } from '../store/postgres-journal';
import { openSqliteJournal } from '../store/sqlite-journal';

/**
 * `npm run bench:journal`: what the journal adds to one payment, the claim before
 * the gateway call and the settlement after it, on SQLite and (when
 * BENCH_DATABASE_URL or TEST_DATABASE_URL is set) PostgreSQL. A script, not a test.
 */
const settings = loadBenchSettings();
const SEQUENTIAL = settings.journalRequests;
const CONCURRENCY = 32;

interface Result {
  journal: string;
  mode: string;
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function claim(index: number, run: string): NewClaim {
  return {
    connector: 'payconex',
    account: '123456789012',
    transactionId: `bench-${run}-${index}`,
    method: 'charge',
    tender: 'card',
    amount: '10.00',
    currency: 'USD',
    cardBrand: 'visa',
    last4: '1111',
    credentialHash: 'c'.repeat(32),
    sessionId: null,
    fingerprint: 'b'.repeat(64),
    owner: 'bench',
  };
}

async function onePayment(journal: TransactionJournal, index: number, run: string): Promise<number> {
  const started = performance.now();
  const key = claim(index, run);
  await journal.claim(key, Date.now());
  await journal.settle(
    key,
    { status: 'approved', gatewayTransactionId: String(index), errorCode: null, errorMessage: null, gatewayMs: 1, answer: approvedAnswer('charge', String(index)) },
    Date.now(),
  );
  return performance.now() - started;
}

async function measure(name: string, journal: TransactionJournal): Promise<Result[]> {
  const run = `${Date.now()}`;
  for (let i = 0; i < 100; i++) await onePayment(journal, i, `${run}-warm`);

  const results: Result[] = [];
  for (const [mode, concurrency] of [['sequential', 1], [`${CONCURRENCY} concurrent`, CONCURRENCY]] as const) {
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < SEQUENTIAL) {
          const index = next++;
          latencies.push(await onePayment(journal, index, `${run}-${concurrency}`));
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (q: number) => Number(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(3));
    results.push({ journal: name, mode, requests: latencies.length, perSecond: Math.round(latencies.length / elapsed), p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) });
    process.stdout.write(`  ${name} ${mode}: done\n`);
  }
  return results;
}

async function main(): Promise<void> {
  process.stdout.write(`Journal cost per payment (claim + settle), ${SEQUENTIAL} payments per mode\n`);
  const results: Result[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-journal-'));
  const sqlite = openSqliteJournal(dir);
  results.push(...(await measure('SQLite (WAL, synchronous=FULL)', sqlite)));
  await sqlite.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const url = settings.databaseUrl;
  if (url) {
    const postgres = await openPostgresJournal(url);
    results.push(...(await measure('PostgreSQL', postgres)));
    await postgres.close();
  } else {
    process.stdout.write('  PostgreSQL skipped: set BENCH_DATABASE_URL (scripts/start-test-postgres.sh prints one)\n');
  }

  console.table(results.map((r) => ({ journal: r.journal, mode: r.mode, 'payments/s': r.perSecond, 'p50 ms': r.p50Ms, 'p99 ms': r.p99Ms, 'max ms': r.maxMs })));
  const out = path.resolve('bench-results', 'journal.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, results }, null, 2));
  process.stdout.write(`Written to ${path.relative(process.cwd(), out)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).message}\n`);
  process.exit(1);
});

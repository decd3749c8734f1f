import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { SingleBar, Presets } from 'cli-progress';
import { loadBenchSettings } from '../config/tool-settings';
import { PRODUCTION_NODE_OPTIONS } from './production';

/**
 * `npm run bench`: the service against what it could be, in one run, on loopback.
 * Targets: the service (full path), a bare Express + axios forwarder, a raw
 * node:http + undici forwarder, and the sandbox gateway called directly. Each is
 * driven at 50 connections (throughput, 2 rounds) and at a steady 100 requests/s on
 * one connection (latency, 3 rounds), rounds interleaved across the targets; the
 * service then runs on until it has had 60 s of load,
 * and its peak RSS is read from /proc. Every request carries a new transaction_id.
 * A script, not a test. BENCH_SECONDS scales the phases (default 10).
 */
const settings = loadBenchSettings();
const SECONDS = settings.seconds;
const THROUGHPUT_ROUNDS = 2;
const LATENCY_ROUNDS = 3;
const DIST = path.resolve(__dirname, '..');
const ACCOUNT = '123456789012';
const KEY = '0123456789abcdefABCDEF9876543210';
const AUTH = `Basic ${Buffer.from(`${ACCOUNT}:${KEY}`).toString('base64')}`;

interface Phase {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
}

async function startProcess(script: string, env: Record<string, string>, pattern: RegExp): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [path.join(DIST, script)], { env: { PATH: settings.path, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let seen = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = pattern.exec(seen);
      if (match) resolve(Number(match[1]));
      // Keep reading (and dropping) what it logs, so a full pipe never slows it down.
      if (seen.length > 100_000) seen = seen.slice(-1000);
    });
    child.on('exit', () => reject(new Error(`${script} exited: ${seen.slice(-500)}`)));
  });
  return { child, port };
}

let sequence = 0;
function twilioCharge(): string {
  sequence += 1;
  return JSON.stringify({
    method: 'charge',
    transaction_id: `bench-${process.pid}-${sequence}`,
    cardnumber: '4111111111111111',
    cvv: '123',
    expiry_month: '12',
    expiry_year: '30',
    amount: '10.00',
    currency_code: 'USD',
    postal_code: '94111',
    description: 'bench',
  });
}

function qsapiSale(): string {
  sequence += 1;
  return new URLSearchParams({
    account_id: ACCOUNT, api_accesskey: KEY, response_format: 'JSON', transaction_type: 'SALE', tender_type: 'CARD',
    card_number: '4111111111111111', card_expiration: '1230', card_verification: '123', zip: '94111',
    transaction_amount: '10.00', currency: 'USD', custom_id: `bench-${process.pid}-${sequence}`,
  }).toString();
}

function load(url: string, form: boolean, options: { connections: number; seconds: number; overallRate?: number }): Promise<Phase> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        connections: options.connections,
        duration: options.seconds,
        overallRate: options.overallRate,
        headers: form ? { 'content-type': 'application/x-www-form-urlencoded' } : { 'content-type': 'application/json', authorization: AUTH },
        requests: [{ setupRequest: (request) => ({ ...request, body: form ? qsapiSale() : twilioCharge() }) }],
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          requestsPerSecond: Math.round(result.requests.average),
          p50: result.latency.p50,
          p99: result.latency.p99,
          max: result.latency.max,
          errors: result.errors + result.timeouts,
          non2xx: result.non2xx,
        });
      },
    );
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** One figure from several rounds: the median (the mean of two), the worst max, every error counted. */
function combineRounds(rounds: Phase[]): Phase {
  return {
    requestsPerSecond: median(rounds.map((round) => round.requestsPerSecond)),
    p50: median(rounds.map((round) => round.p50)),
    p99: median(rounds.map((round) => round.p99)),
    max: Math.max(...rounds.map((round) => round.max)),
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
    non2xx: rounds.reduce((sum, round) => sum + round.non2xx, 0),
  };
}

function rssMegabytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function main(): Promise<void> {
  const children: ChildProcess[] = [];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-journal-'));
  try {
    const sandbox = await startProcess('sandbox/main.js', { SANDBOX_PORT: '0' }, /"url":"http:\/\/127\.0\.0\.1:(\d+)/);
    children.push(sandbox.child);
    const sandboxUrl = `http://127.0.0.1:${sandbox.port}/api/qsapi/3.8`;
    const service = await startProcess(
      'main.js',
      // As the image runs it: NODE_ENV and NODE_OPTIONS from the Dockerfile.
      { HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, GATEWAY_URL_PAYCONEX: sandboxUrl, NODE_ENV: 'production', NODE_OPTIONS: PRODUCTION_NODE_OPTIONS },
      /"message":"listening","port":(\d+)/,
    );
    children.push(service.child);
    const bare = await startProcess('bench/bare-forwarder.js', { SANDBOX_URL: sandboxUrl }, /"port":(\d+)/);
    const raw = await startProcess('bench/raw-forwarder.js', { SANDBOX_URL: sandboxUrl }, /"port":(\d+)/);
    children.push(bare.child, raw.child);

    const targets = [
      { name: 'service (full path)', url: `http://127.0.0.1:${service.port}/`, form: false },
      { name: 'bare Express + axios forwarder', url: `http://127.0.0.1:${bare.port}/`, form: false },
      { name: 'raw node:http + undici forwarder', url: `http://127.0.0.1:${raw.port}/`, form: false },
      { name: 'sandbox gateway, direct', url: sandboxUrl, form: true },
    ];
    // Rounds are interleaved across the targets, so that a burst of noise from this shared machine
    // lands on all of them alike; each figure is the median of the rounds' (max: the worst).
    const roundSeconds = Math.max(2, Math.round(SECONDS * 0.4));
    const soakSeconds = Math.max(0, 60 - SECONDS - LATENCY_ROUNDS * roundSeconds);
    const phases = targets.length * (THROUGHPUT_ROUNDS + LATENCY_ROUNDS) + 1;
    const progress = new SingleBar({ format: 'bench [{bar}] {value}/{total} {phase}', stream: process.stderr }, Presets.shades_classic);
    progress.start(phases, 0, { phase: 'warming up' });

    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMegabytes(service.child.pid!))), 250);
    // Warm up every target (JIT, connection pools) before measuring.
    for (const target of targets) await load(target.url, target.form, { connections: 10, seconds: 2 });

    const throughputRounds: Phase[][] = targets.map(() => []);
    for (let round = 1; round <= THROUGHPUT_ROUNDS; round++) {
      for (const [index, target] of targets.entries()) {
        progress.update({ phase: `${target.name}: 50 connections, round ${round}/${THROUGHPUT_ROUNDS}` });
        throughputRounds[index]!.push(await load(target.url, target.form, { connections: 50, seconds: SECONDS / THROUGHPUT_ROUNDS }));
        progress.increment();
      }
    }
    const throughputs = throughputRounds.map(combineRounds);
    const rounds: Phase[][] = targets.map(() => []);
    for (let round = 1; round <= LATENCY_ROUNDS; round++) {
      for (const [index, target] of targets.entries()) {
        progress.update({ phase: `${target.name}: 100 requests/s, round ${round}/${LATENCY_ROUNDS}` });
        rounds[index]!.push(await load(target.url, target.form, { connections: 1, seconds: roundSeconds, overallRate: 100 }));
        progress.increment();
      }
    }
    const results = targets.map((target, index) => ({
      name: target.name,
      throughput: throughputs[index]!,
      steady: combineRounds(rounds[index]!),
      rounds: { throughput: throughputRounds[index]!, steady: rounds[index]! },
    }));
    progress.update({ phase: `service: ${soakSeconds} s more at 50 connections` });
    const soak = soakSeconds > 0 ? await load(targets[0]!.url, false, { connections: 50, seconds: soakSeconds }) : undefined;
    progress.increment();
    progress.stop();
    clearInterval(sampler);
    const rssAfterLoad = rssMegabytes(service.child.pid!);
    peakRss = Math.max(peakRss, rssAfterLoad);

    console.table(
      results.map(({ name, throughput, steady }) => ({
        target: name,
        'req/s @50': throughput.requestsPerSecond,
        'p50 ms @100rps': steady.p50,
        'p99 ms @100rps': steady.p99,
        'max ms @100rps': steady.max,
        'errors + non-2xx': throughput.errors + throughput.non2xx + steady.errors + steady.non2xx,
      })),
    );
    const [own, bareResult, rawResult] = results;
    const throughputRatio = own!.throughput.requestsPerSecond / bareResult!.throughput.requestsPerSecond;
    const medianDelta = own!.steady.p50 - rawResult!.steady.p50;
    const p99Delta = own!.steady.p99 - rawResult!.steady.p99;
    const serviceErrors = results[0]!.throughput.errors + results[0]!.throughput.non2xx + results[0]!.steady.errors + results[0]!.steady.non2xx + (soak ? soak.errors + soak.non2xx : 0);
    const checks = [
      [`throughput ${(throughputRatio * 100).toFixed(0)}% of the bare forwarder's (target >= 70%)`, throughputRatio >= 0.7],
      [`median ${medianDelta.toFixed(2)} ms over the raw forwarder's at 100 req/s (target <= 2 ms)`, medianDelta <= 2],
      [`p99 ${p99Delta.toFixed(2)} ms over the raw forwarder's at 100 req/s (target <= 10 ms)`, p99Delta <= 10],
      [`RSS ${rssAfterLoad.toFixed(0)} MB after ${SECONDS + LATENCY_ROUNDS * roundSeconds + soakSeconds} s of load, peak ${peakRss.toFixed(0)} MB (target < 150 MB)`, rssAfterLoad < 150],
      [`${serviceErrors} error answers from the service (target 0)`, serviceErrors === 0],
    ] as const;
    for (const [text, met] of checks) process.stdout.write(`${met ? 'met   ' : 'MISSED'} ${text}\n`);

    const out = path.resolve('bench-results', 'bench.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(
      out,
      JSON.stringify(
        { at: new Date().toISOString(), node: process.version, cpus: os.cpus().map((cpu) => cpu.model)[0], cores: os.cpus().length, seconds: SECONDS, results, soak, rssAfterLoad, peakRss, throughputRatio, medianDelta, p99Delta, checks },
        null,
        2,
      ),
    );
    process.stdout.write(`Written to ${path.relative(process.cwd(), out)}\n`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).message}\n`);
  process.exit(1);
});

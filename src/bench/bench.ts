import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { SingleBar, Presets } from 'cli-progress';
import { loadBenchSettings } from '../config/tool-settings';
import { PRODUCTION_ENV } from './production';

/**
 * `npm run bench`: the service against what it could be, in one run, on loopback.
 * Targets: the service (full path, its undici gateway client), the same service on the
 * former axios gateway client (bench/service-axios-http.ts), a bare Express + axios
 * forwarder, a raw node:http + undici forwarder, and the sandbox gateway called
 * directly. Each is driven at 50 connections (throughput, 2 rounds) and at a steady
 * 100 requests/s on one connection (latency, 3 rounds), rounds interleaved across the
 * targets. Each target's process CPU time (utime + stime from /proc) is read around
 * every round and divided by the requests it served: CPU per payment, steadier than
 * throughput on a shared machine. The service then runs on until it has had 60 s of
 * load; every target's peak RSS is read from /proc. Every request carries a new
 * transaction_id. A script, not a test. BENCH_SECONDS scales the phases (default 10).
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
  /** The target process's CPU time over the round, in microseconds per request served. */
  cpuMicrosPerRequest: number;
}

/** Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ), whatever the kernel's HZ. */
const MICROS_PER_TICK = 10_000;

/** utime + stime of a process (all its threads), in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
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

function load(url: string, form: boolean, pid: number, options: { connections: number; seconds: number; overallRate?: number }): Promise<Phase> {
  const cpuBefore = cpuTicks(pid);
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
        const served = Math.max(1, result['2xx'] + result.non2xx);
        resolve({
          requestsPerSecond: Math.round(result.requests.average),
          p50: result.latency.p50,
          p99: result.latency.p99,
          max: result.latency.max,
          errors: result.errors + result.timeouts,
          non2xx: result.non2xx,
          cpuMicrosPerRequest: Math.round(((cpuTicks(pid) - cpuBefore) * MICROS_PER_TICK) / served),
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
    cpuMicrosPerRequest: median(rounds.map((round) => round.cpuMicrosPerRequest)),
  };
}

function rssMegabytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function main(): Promise<void> {
  const loadAtStart = os.loadavg();
  const children: ChildProcess[] = [];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-journal-'));
  const dataDirs = [dataDir];
  try {
    const sandbox = await startProcess('sandbox/main.js', { SANDBOX_PORT: '0' }, /"url":"http:\/\/127\.0\.0\.1:(\d+)/);
    children.push(sandbox.child);
    const sandboxUrl = `http://127.0.0.1:${sandbox.port}/api/qsapi/3.8`;
    // Both services as the image runs them: NODE_ENV, NODE_OPTIONS and MALLOC_ARENA_MAX from the Dockerfile.
    const serviceEnv = (journalDir: string) => ({ HOST: '127.0.0.1', PORT: '0', DATA_DIR: journalDir, GATEWAY_URL_PAYCONEX: sandboxUrl, ...PRODUCTION_ENV });
    const listening = /"message":"listening","port":(\d+)/;
    const service = await startProcess('main.js', serviceEnv(dataDir), listening);
    children.push(service.child);
    const formerDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-journal-axios-'));
    dataDirs.push(formerDataDir);
    const former = await startProcess('bench/service-axios-http.js', serviceEnv(formerDataDir), listening);
    children.push(former.child);
    const bare = await startProcess('bench/bare-forwarder.js', { SANDBOX_URL: sandboxUrl }, /"port":(\d+)/);
    const raw = await startProcess('bench/raw-forwarder.js', { SANDBOX_URL: sandboxUrl }, /"port":(\d+)/);
    children.push(bare.child, raw.child);

    const targets = [
      { name: 'service (undici gateway client)', url: `http://127.0.0.1:${service.port}/`, form: false, pid: service.child.pid! },
      { name: 'service, former axios http client', url: `http://127.0.0.1:${former.port}/`, form: false, pid: former.child.pid! },
      { name: 'bare Express + axios forwarder', url: `http://127.0.0.1:${bare.port}/`, form: false, pid: bare.child.pid! },
      { name: 'raw node:http + undici forwarder', url: `http://127.0.0.1:${raw.port}/`, form: false, pid: raw.child.pid! },
      { name: 'sandbox gateway, direct', url: sandboxUrl, form: true, pid: sandbox.child.pid! },
    ];
    // Rounds are interleaved across the targets, so that a burst of noise from this shared machine
    // lands on all of them alike; each figure is the median of the rounds' (max: the worst).
    const roundSeconds = Math.max(2, Math.round(SECONDS * 0.4));
    const soakSeconds = Math.max(0, 60 - SECONDS - LATENCY_ROUNDS * roundSeconds);
    const phases = targets.length * (THROUGHPUT_ROUNDS + LATENCY_ROUNDS) + 1;
    const progress = new SingleBar({ format: 'bench [{bar}] {value}/{total} {phase}', stream: process.stderr }, Presets.shades_classic);
    progress.start(phases, 0, { phase: 'warming up' });

    const peakRss = targets.map(() => 0);
    const sampleRss = () => targets.forEach((target, index) => (peakRss[index] = Math.max(peakRss[index]!, rssMegabytes(target.pid))));
    const sampler = setInterval(sampleRss, 250);
    // Warm up every target (JIT, connection pools) before measuring.
    for (const target of targets) await load(target.url, target.form, target.pid, { connections: 10, seconds: 2 });

    const throughputRounds: Phase[][] = targets.map(() => []);
    for (let round = 1; round <= THROUGHPUT_ROUNDS; round++) {
      for (const [index, target] of targets.entries()) {
        progress.update({ phase: `${target.name}: 50 connections, round ${round}/${THROUGHPUT_ROUNDS}` });
        throughputRounds[index]!.push(await load(target.url, target.form, target.pid, { connections: 50, seconds: SECONDS / THROUGHPUT_ROUNDS }));
        progress.increment();
      }
    }
    const throughputs = throughputRounds.map(combineRounds);
    const rounds: Phase[][] = targets.map(() => []);
    for (let round = 1; round <= LATENCY_ROUNDS; round++) {
      for (const [index, target] of targets.entries()) {
        progress.update({ phase: `${target.name}: 100 requests/s, round ${round}/${LATENCY_ROUNDS}` });
        rounds[index]!.push(await load(target.url, target.form, target.pid, { connections: 1, seconds: roundSeconds, overallRate: 100 }));
        progress.increment();
      }
    }
    const results = targets.map((target, index) => ({
      name: target.name,
      throughput: throughputs[index]!,
      steady: combineRounds(rounds[index]!),
      rounds: { throughput: throughputRounds[index]!, steady: rounds[index]! },
    }));
    const withRss = () => results.map((result, index) => ({ ...result, peakRss: Math.round(peakRss[index]!) }));
    progress.update({ phase: `service: ${soakSeconds} s more at 50 connections` });
    const soak = soakSeconds > 0 ? await load(targets[0]!.url, false, targets[0]!.pid, { connections: 50, seconds: soakSeconds }) : undefined;
    progress.increment();
    progress.stop();
    clearInterval(sampler);
    sampleRss();
    const rssAfterLoad = rssMegabytes(service.child.pid!);

    console.table(
      withRss().map(({ name, throughput, steady, peakRss: rss }) => ({
        target: name,
        'req/s @50': throughput.requestsPerSecond,
        'CPU µs/req @50': throughput.cpuMicrosPerRequest,
        'p50 ms @100rps': steady.p50,
        'p99 ms @100rps': steady.p99,
        'max ms @100rps': steady.max,
        'CPU µs/req @100rps': steady.cpuMicrosPerRequest,
        'peak RSS MB': rss,
        'errors + non-2xx': throughput.errors + throughput.non2xx + steady.errors + steady.non2xx,
      })),
    );
    const [own, formerResult, bareResult, rawResult] = results;
    const errorsOf = (result: (typeof results)[number]) => result.throughput.errors + result.throughput.non2xx + result.steady.errors + result.steady.non2xx;
    const overFormer = own!.throughput.requestsPerSecond / formerResult!.throughput.requestsPerSecond;
    const overBare = own!.throughput.requestsPerSecond / bareResult!.throughput.requestsPerSecond;
    const cpuRatio = own!.throughput.cpuMicrosPerRequest / formerResult!.throughput.cpuMicrosPerRequest;
    const p99OverFormer = own!.steady.p99 - formerResult!.steady.p99;
    const medianDelta = own!.steady.p50 - rawResult!.steady.p50;
    const p99Delta = own!.steady.p99 - rawResult!.steady.p99;
    const serviceErrors = errorsOf(own!) + (soak ? soak.errors + soak.non2xx : 0);
    const checks = [
      [`throughput ${overFormer.toFixed(2)}x the former axios client's (target >= 1.3x)`, overFormer >= 1.3],
      [`throughput ${overBare.toFixed(2)}x the bare Express + axios forwarder's (target >= 1.1x)`, overBare >= 1.1],
      [`CPU per payment ${own!.throughput.cpuMicrosPerRequest} µs, ${((1 - cpuRatio) * 100).toFixed(0)}% less than the former client's ${formerResult!.throughput.cpuMicrosPerRequest} µs (target: at least 25% less)`, cpuRatio <= 0.75],
      [`p99 ${p99OverFormer >= 0 ? '+' : ''}${p99OverFormer.toFixed(2)} ms against the former client's at 100 req/s (target: no worse)`, p99OverFormer <= 0],
      [`median ${medianDelta.toFixed(2)} ms over the raw forwarder's at 100 req/s (target <= 2 ms)`, medianDelta <= 2],
      [`p99 ${p99Delta.toFixed(2)} ms over the raw forwarder's at 100 req/s (target <= 10 ms)`, p99Delta <= 10],
      [`RSS ${rssAfterLoad.toFixed(0)} MB after ${SECONDS + LATENCY_ROUNDS * roundSeconds + soakSeconds} s of load, peak ${peakRss[0]!.toFixed(0)} MB (target < 150 MB)`, rssAfterLoad < 150],
      [`${serviceErrors} error answers from the service, ${errorsOf(formerResult!)} from the former client's (target 0)`, serviceErrors === 0 && errorsOf(formerResult!) === 0],
    ] as const;
    for (const [text, met] of checks) process.stdout.write(`${met ? 'met   ' : 'MISSED'} ${text}\n`);

    const out = path.resolve('bench-results', 'bench.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(
      out,
      JSON.stringify(
        {
          at: new Date().toISOString(),
          node: process.version,
          cpus: os.cpus().map((cpu) => cpu.model)[0],
          cores: os.cpus().length,
          loadAverage: { atStart: loadAtStart, atEnd: os.loadavg() },
          seconds: SECONDS,
          results: withRss(),
          soak,
          rssAfterLoad,
          overFormer,
          overBare,
          cpuRatio,
          p99OverFormer,
          medianDelta,
          p99Delta,
          checks,
        },
        null,
        2,
      ),
    );
    process.stdout.write(`Written to ${path.relative(process.cwd(), out)}\n`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).message}\n`);
  process.exit(1);
});

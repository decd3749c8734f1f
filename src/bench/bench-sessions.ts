import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadBenchSettings } from '../config/tool-settings';
import { hashSecret } from '../security/secret-hash';
import type { ConnectorConfig } from '../simulator/connector-call';
import { SignedRequests } from '../simulator/signed-requests';
import { startSimulator } from '../simulator/simulator-server';
import { PRODUCTION_ENV } from './production';

/**
 * `npm run bench:sessions`: many agent sessions at once through the simulator, each with its event
 * stream open and a caller typing one digit a second (500 sessions: 500 status callbacks a second).
 * Reports sessions created per second, the callback-to-event latency (the simulator sends Twilio's
 * status callback for a digit until the session's stream shows the new length: the service's
 * signature check, state change, save and event, end to end; and, for comparison, from the key
 * press), the service's CPU time per callback and its RSS. The service runs as the image runs it, in a process of its own. A script,
 * not a test. BENCH_SESSIONS changes the count (default 500).
 */
const SESSIONS = loadBenchSettings().sessions;
const DIGITS = '4111111111111111';
const ACCOUNT_SID = `AC${'0'.repeat(31)}1`;
const AUTH_TOKEN = 'bench-auth-token-0123456789';
const CLIENT_SECRET = randomBytes(32).toString('base64url');
const TARGETS = { p99Ms: 50, rssMb: 200 };

interface Stream {
  sessionId: string;
  callSid: string;
  /** When each digit was pressed, when the simulator sent its callback, and when its length reached the stream. */
  pressedAt: number[];
  calledBackAt: number[];
  seenAt: number[];
}

/** When the simulator (Twilio) sends each status callback: the session (from its URL) and the card number's length so far. */
const callbacksSent = new Map<string, number[]>();
const send0 = SignedRequests.prototype.post;
SignedRequests.prototype.post = function post(this: SignedRequests, url: string, fields: Record<string, string>) {
  const session = /\/twilio\/sessions\/(ps_[0-9a-f]+)\//.exec(url)?.[1];
  const length = (fields.PaymentCardNumber ?? '').replace(/[^0-9x]/g, '').length;
  if (session && fields.PartialResult === 'true' && length > 0) {
    const sent = callbacksSent.get(session) ?? [];
    sent[length - 1] ??= performance.now();
    callbacksSent.set(session, sent);
  }
  return send0.call(this, url, fields);
};

async function main(): Promise<void> {
  const settings = loadBenchSettings();
  const connectors: Record<string, ConnectorConfig> = {};
  const simulator = await startSimulator({ host: '127.0.0.1', port: 0, authToken: AUTH_TOKEN, connectors });
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sessions-'));
  const clientsFile = path.join(dataDir, 'api-clients.json');
  fs.writeFileSync(
    clientsFile,
    JSON.stringify({ clients: [{ client_id: 'bench', secret_hash: hashSecret(CLIENT_SECRET), scopes: ['sessions:write'], created_at: new Date().toISOString() }] }),
    { mode: 0o600 },
  );
  const service = spawn(process.execPath, [path.resolve(__dirname, '..', 'main.js')], {
    env: {
      PATH: settings.path,
      ...PRODUCTION_ENV,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_API_BASE: simulator.url,
      API_CLIENTS_FILE: clientsFile,
      MAX_EVENT_STREAMS_PER_CLIENT: String(SESSIONS + 10),
      MAX_UNAUTHENTICATED_PER_ADDRESS: '1000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await listening(service.stdout!);
    connectors.Default = { url: `${url}/`, username: '123456789012', password: '0123456789abcdefABCDEF9876543210' };
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const token = JSON.parse((await send(agent, 'POST', `${url}/oauth/token`, `grant_type=client_credentials`, { Authorization: `Basic ${Buffer.from(`bench:${CLIENT_SECRET}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' })).body).access_token as string;
    const bearer = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };

    process.stderr.write(`creating ${SESSIONS} sessions...\n`);
    const createdAt = performance.now();
    const streams: Stream[] = [];
    await inParallel(SESSIONS, 32, async () => {
      const callSid = `CA${randomBytes(16).toString('hex')}`;
      const answer = await send(agent, 'POST', `${url}/v1/sessions`, JSON.stringify({ type: 'agent', call_sid: callSid, amount: '10.00' }), bearer);
      if (answer.status !== 201) throw new Error(`session refused: ${answer.status} ${answer.body}`);
      streams.push({ sessionId: JSON.parse(answer.body).id as string, callSid, pressedAt: [], calledBackAt: [], seenAt: [] });
    });
    const sessionsPerSecond = Math.round(SESSIONS / ((performance.now() - createdAt) / 1000));

    process.stderr.write(`opening ${SESSIONS} event streams and asking every caller for the card number...\n`);
    const open = await Promise.all(streams.map((stream) => watch(`${url}/v1/sessions/${stream.sessionId}/events`, token, stream)));
    await inParallel(streams.length, 32, async (index) => {
      const stream = streams[index]!;
      const answer = await send(agent, 'POST', `${url}/v1/sessions/${stream.sessionId}/capture`, JSON.stringify({ field: 'card_number' }), bearer);
      if (answer.status !== 200) throw new Error(`capture refused: ${answer.status}`);
    });

    process.stderr.write(`each caller types one digit a second for ${DIGITS.length} s...\n`);
    const cpuBefore = cpuMicroseconds(service.pid!);
    const ownBefore = process.cpuUsage();
    const typingStarted = performance.now();
    let peakRss = rssMb(service.pid!);
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(service.pid!))), 200);
    const keypad = new http.Agent({ keepAlive: true, maxSockets: 64 });
    for (let digit = 0; digit < DIGITS.length; digit++) {
      const second = performance.now();
      // The callers of one second press their key spread over it, as people do.
      await Promise.all(
        streams.map(async (stream, index) => {
          await sleepUntil(second + (index / streams.length) * 1000);
          stream.pressedAt[digit] = performance.now();
          await send(keypad, 'POST', `${simulator.url}/simulator/calls/${stream.callSid}/dtmf`, `Digits=${DIGITS[digit]}`, { 'Content-Type': 'application/x-www-form-urlencoded' });
        }),
      );
      await sleepUntil(second + 1000);
    }
    await simulator.settled();
    await waitFor(() => streams.every((stream) => stream.seenAt.length === DIGITS.length), 10_000);
    clearInterval(sampler);
    const callbacks = streams.length * DIGITS.length;
    const own = process.cpuUsage(ownBefore);
    const driverLoad = Math.round(((own.user + own.system) / 1000 / (performance.now() - typingStarted)) * 100);
    const cpuPerCallback = Math.round((cpuMicroseconds(service.pid!) - cpuBefore) / callbacks);
    const sorted = (values: number[]) => values.filter(Number.isFinite).sort((a, b) => a - b);
    const keypadLatencies = sorted(streams.flatMap((stream) => stream.seenAt.map((seen, digit) => seen - stream.pressedAt[digit]!)));
    const latencies = sorted(streams.flatMap((stream) => stream.seenAt.map((seen, digit) => seen - (callbacksSent.get(stream.sessionId)?.[digit] ?? NaN))));
    open.forEach((close) => close());
    agent.destroy();
    keypad.destroy();

    const quantileOf = (values: number[], q: number) => Math.round(values[Math.min(values.length - 1, Math.floor(q * values.length))]! * 10) / 10;
    const quantile = (q: number) => quantileOf(latencies, q);
    const result = {
      sessions: SESSIONS,
      sessionsPerSecond,
      callbacks,
      eventsSeen: keypadLatencies.length,
      callbackToEventP50Ms: quantile(0.5),
      callbackToEventP99Ms: quantile(0.99),
      keypadToEventP99Ms: quantileOf(keypadLatencies, 0.99),
      cpuMicrosecondsPerCallback: cpuPerCallback,
      peakRssMb: peakRss,
      /** The simulator and the 500 callers and streams of this process, in % of one core: what the service shares the machine with. */
      driverCpuPercent: driverLoad,
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
      date: new Date().toISOString(),
    };
    console.table([result]);
    const report = (met: boolean, what: string) => process.stdout.write(`${met ? 'met   ' : 'MISSED'} ${what}\n`);
    report(result.callbackToEventP99Ms < TARGETS.p99Ms, `callback-to-event p99 ${result.callbackToEventP99Ms} ms (target < ${TARGETS.p99Ms} ms)`);
    report(result.peakRssMb < TARGETS.rssMb, `RSS ${result.peakRssMb} MB at peak (target < ${TARGETS.rssMb} MB)`);
    report(result.eventsSeen === callbacks, `${result.eventsSeen} of ${callbacks} lengths reached their streams`);
    fs.mkdirSync('bench-results', { recursive: true });
    fs.writeFileSync(path.join('bench-results', 'bench-sessions.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    service.kill('SIGTERM');
    await simulator.stop();
  }
}

/** Follows one session's stream; records when each new card-number length arrives. */
function watch(url: string, token: string, stream: Stream): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const call = http.get(url, { headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream refused: ${res.statusCode}`));
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const data = buffer
            .slice(0, end)
            .split('\n')
            .find((line) => line.startsWith('data:'));
          buffer = buffer.slice(end + 2);
          if (!data) continue;
          const length = (JSON.parse(data.slice(5)) as { fields: { card_number?: { length: number } } }).fields.card_number?.length ?? 0;
          if (length > stream.seenAt.length) stream.seenAt[length - 1] = performance.now();
        }
      });
      resolve(() => call.destroy());
    });
    call.on('error', () => undefined);
  });
}

function send(agent: http.Agent, method: string, url: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const call = http.request(url, { method, agent, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    call.on('error', reject);
    call.end(body);
  });
}

async function inParallel(count: number, parallel: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) await work(next++);
  }));
}

function listening(stdout: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error('the service did not start')), 30_000);
    stdout.on('data', (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-10_000);
      if (seen.includes('"message":"listening"')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sleepUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));

async function waitFor(probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

function cpuMicroseconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / 100) * 1_000_000;
}

function rssMb(pid: number): number {
  const kilobytes = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return Math.round(kilobytes / 1024);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:sessions failed: ${(error as Error).message}\n`);
  process.exit(1);
});

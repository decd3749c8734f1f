import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import Table from 'cli-table3';
import { SingleBar, Presets } from 'cli-progress';
import { Command, Option } from 'commander';

/**
 * `npm run certify -- --url URL --username U --password P [--suite sandbox|payconex-cert]`:
 * the checks a merchant runs with curl before Twilio lets a connector go live, as
 * one command. Prints a pass/fail table, writes a JSON report (card data masked),
 * exits 1 when any case fails.
 */
interface Exchange {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json?: Record<string, unknown>;
}

interface Sent {
  path: string;
  body: string | Record<string, unknown>;
  /** undefined: application/json; null: no Content-Type header at all. */
  contentType?: string | null;
  credentials?: 'valid' | 'wrong' | 'none';
}

interface Case {
  name: string;
  /** What the request shows in the report: never a full card or account number. */
  describes: string;
  run(send: (sent: Sent) => Promise<Exchange>): Promise<string | undefined>;
}

interface Options {
  url: string;
  username: string;
  password: string;
  suite: 'sandbox' | 'payconex-cert';
  report: string;
}

const TWILIO_TEST_CARDS: Array<[brand: string, number: string]> = [
  ['Visa', '4111111111111111'],
  ['MasterCard', '5555555555554444'],
  ['Amex', '378282246310005'],
  ['Discover', '6011111111111117'],
  ['Diners', '3065930009020004'],
  ['JCB', '3566002020360505'],
  ['UnionPay', '6200000000000005'],
  ['Maestro', '6771798021000008'],
];
const TWILIO_TEST_BANK_ACCOUNTS = ['12345678', '123456789'];
const VALID_ROUTING = '244183602';

const run = Date.now().toString(36);
let sequence = 0;
const transactionId = () => `certify-${run}-${++sequence}`;
const masked = (digits: string) => `****${digits.slice(-4)}`;

function card(number: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { method: 'charge', transaction_id: transactionId(), cardnumber: number, cvv: number.length === 15 ? '1234' : '123', expiry_month: '12', expiry_year: '30', amount: '10.00', currency_code: 'USD', postal_code: '94111', ...extra };
}

function bank(account: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { method: 'charge', transaction_id: transactionId(), bankaccountnumber: account, routingnumber: VALID_ROUTING, amount: '10.00', currency_code: 'USD', ...extra };
}

// ---- What a good answer looks like

function contractShape(exchange: Exchange, idKey: 'charge_id' | 'token_id'): string | undefined {
  if (!exchange.json) return `the answer is not JSON (HTTP ${exchange.status}: ${exchange.text.slice(0, 80)})`;
  const keys = Object.keys(exchange.json);
  for (const key of [idKey, 'error_code', 'error_message']) if (!keys.includes(key)) return `the answer has no "${key}" key`;
  return undefined;
}

function approved(exchange: Exchange, idKey: 'charge_id' | 'token_id' = 'charge_id'): string | undefined {
  const shape = contractShape(exchange, idKey);
  if (shape) return shape;
  if (exchange.status !== 200) return `HTTP ${exchange.status}, expected 200`;
  const body = exchange.json!;
  if (body.error_code !== null) return `error_code ${JSON.stringify(body.error_code)}: ${String(body.error_message)}`;
  if (typeof body[idKey] !== 'string' || body[idKey] === '') return `${idKey} is ${JSON.stringify(body[idKey])}, expected an id`;
  return undefined;
}

function refused(exchange: Exchange, status: number, code?: string, idKey: 'charge_id' | 'token_id' = 'charge_id'): string | undefined {
  const shape = contractShape(exchange, idKey);
  if (shape) return shape;
  if (exchange.status !== status) return `HTTP ${exchange.status}, expected ${status}`;
  const body = exchange.json!;
  if (body[idKey] !== null) return `${idKey} is ${JSON.stringify(body[idKey])}, expected null`;
  if (code !== undefined && body.error_code !== code) return `error_code ${JSON.stringify(body.error_code)}, expected "${code}"`;
  if (code === undefined && (typeof body.error_code !== 'string' || body.error_code === '')) return 'error_code is empty, expected a code';
  return undefined;
}

// ---- The suites

function commonCases(declineAmount: string, declineCode: string, goodCard: string): Case[] {
  return [
    {
      name: `decline at ${declineAmount}`,
      describes: `charge ${masked(goodCard)} for ${declineAmount}`,
      run: async (send) => refused(await send({ path: '/', body: card(goodCard, { amount: declineAmount }) }), 200, declineCode),
    },
    {
      name: 'same transaction_id twice',
      describes: `charge ${masked(goodCard)} twice with one transaction_id`,
      run: async (send) => {
        const body = card(goodCard);
        const first = await send({ path: '/', body });
        const second = await send({ path: '/', body });
        const problem = approved(first);
        if (problem) return `first: ${problem}`;
        return second.text === first.text ? undefined : `the retry answered ${second.text.slice(0, 100)}, expected the first answer`;
      },
    },
    {
      name: 'wrong credentials',
      describes: `charge ${masked(goodCard)} with a wrong password`,
      run: async (send) => {
        const exchange = await send({ path: '/', body: card(goodCard), credentials: 'wrong' });
        return refused(exchange, 401, 'UNAUTHORIZED') ?? (exchange.headers['www-authenticate'] ? undefined : 'no WWW-Authenticate header');
      },
    },
    {
      name: 'no credentials',
      describes: `charge ${masked(goodCard)} without Authorization`,
      run: async (send) => refused(await send({ path: '/', body: card(goodCard), credentials: 'none' }), 401, 'UNAUTHORIZED'),
    },
    {
      name: 'body with no Content-Type',
      describes: `charge ${masked(goodCard)}, no Content-Type header`,
      run: async (send) => approved(await send({ path: '/', body: card(goodCard), contentType: null })),
    },
    {
      name: 'malformed body',
      describes: 'a truncated JSON body',
      run: async (send) => refused(await send({ path: '/', body: '{"method":"charge","transaction_id":' }), 400, 'MALFORMED_BODY'),
    },
  ];
}

function sandboxSuite(): Case[] {
  const cards: Case[] = TWILIO_TEST_CARDS.map(([brand, number]) => ({
    name: `charge ${brand} test card`,
    describes: `charge ${masked(number)}`,
    // The Diners number Twilio lists fails the Luhn check: the sandbox answers it as any such card.
    run: async (send) => (brand === 'Diners' ? refused(await send({ path: '/', body: card(number) }), 200, '30370') : approved(await send({ path: '/', body: card(number) }))),
  }));
  return [
    ...cards,
    {
      name: 'tokenize, 2-digit year',
      describes: `tokenize ${masked('4111111111111111')}, expiry 12/30`,
      run: async (send) => approved(await send({ path: '/', body: card('4111111111111111', { method: 'tokenize', amount: undefined, currency_code: undefined }) }), 'token_id'),
    },
    {
      name: 'tokenize, 4-digit year',
      describes: `tokenize ${masked('5555555555554444')}, expiry 12/2030`,
      run: async (send) =>
        approved(await send({ path: '/', body: card('5555555555554444', { method: 'tokenize', expiry_year: '2030', amount: undefined, currency_code: undefined }) }), 'token_id'),
    },
    {
      name: 'charge, 4-digit year',
      describes: `charge ${masked('378282246310005')}, expiry 12/2030`,
      run: async (send) => approved(await send({ path: '/', body: card('378282246310005', { expiry_year: '2030' }) })),
    },
    ...TWILIO_TEST_BANK_ACCOUNTS.map<Case>((account) => ({
      name: `ACH charge, ${account.length}-digit account`,
      describes: `charge bank ${masked(account)}`,
      run: async (send) => approved(await send({ path: '/', body: bank(account) })),
    })),
    {
      name: 'ACH tokenize',
      describes: `tokenize bank ${masked('123456789')}`,
      run: async (send) => approved(await send({ path: '/', body: bank('123456789', { method: 'tokenize', amount: undefined, currency_code: undefined }) }), 'token_id'),
    },
    ...commonCases('1.01', '30002', '4111111111111111'),
  ];
}

function payconexCertSuite(): Case[] {
  const certCard = '4000100011112224';
  return [
    { name: 'charge 1.00 approved', describes: `charge ${masked(certCard)} for 1.00`, run: async (send) => approved(await send({ path: '/', body: card(certCard, { amount: '1.00' }) })) },
    {
      name: 'tokenize',
      describes: `tokenize ${masked(certCard)}`,
      run: async (send) => approved(await send({ path: '/', body: card(certCard, { method: 'tokenize', amount: undefined, currency_code: undefined }) }), 'token_id'),
    },
    { name: 'ACH charge', describes: `charge bank ${masked('15378535')}`, run: async (send) => approved(await send({ path: '/', body: bank('15378535', { amount: '1.00' }) })) },
    ...commonCases('1.01', '30002', certCard),
  ];
}

// ---- Running

function sender(options: Options) {
  const base = new URL(options.url);
  const client = base.protocol === 'https:' ? https : http;
  const basic = (password: string) => `Basic ${Buffer.from(`${options.username}:${password}`).toString('base64')}`;
  return (sent: Sent): Promise<Exchange> =>
    new Promise((resolve, reject) => {
      const body = typeof sent.body === 'string' ? sent.body : JSON.stringify(sent.body);
      const headers: Record<string, string> = { 'User-Agent': 'pay-connector-certify' };
      if (sent.contentType !== null) headers['Content-Type'] = sent.contentType ?? 'application/json';
      if (sent.credentials !== 'none') headers.Authorization = basic(sent.credentials === 'wrong' ? `${options.password}x` : options.password);
      const target = new URL(sent.path.replace(/^\//, ''), base.href.endsWith('/') ? base.href : `${base.href}/`);
      const request = client.request(target, { method: 'POST', headers, timeout: 60_000 }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
        });
      });
      request.on('timeout', () => request.destroy(new Error('no answer within 60 s')));
      request.on('error', reject);
      request.end(body);
    });
}

interface Progress {
  starting(name: string): void;
  finished(name: string, passed: boolean): void;
  stop(): void;
}

/**
 * Progress on stderr: a bar on a terminal; elsewhere (CI logs, a pipe, a file), where a bar
 * redrawn in place shows nothing useful, one plain line per finished case.
 */
function progressReporter(total: number, stream: NodeJS.WriteStream): Progress {
  if (!stream.isTTY) {
    let done = 0;
    const width = String(total).length;
    return {
      starting: () => undefined,
      finished: (name, passed) => {
        done += 1;
        stream.write(`certify ${String(done).padStart(width)}/${total} ${passed ? 'PASS' : 'FAIL'} ${name}\n`);
      },
      stop: () => undefined,
    };
  }
  const bar = new SingleBar({ format: 'certify [{bar}] {value}/{total} {case}', stream, hideCursor: true }, Presets.shades_classic);
  bar.start(total, 0, { case: '' });
  return {
    starting: (name) => bar.update({ case: name }),
    finished: () => bar.increment(),
    stop: () => bar.stop(),
  };
}

async function certify(options: Options): Promise<boolean> {
  const cases = options.suite === 'sandbox' ? sandboxSuite() : payconexCertSuite();
  const send = sender(options);
  const progress = progressReporter(cases.length, process.stderr);
  const results: Array<{ case: string; request: string; passed: boolean; reason?: string }> = [];
  for (const each of cases) {
    progress.starting(each.name);
    const reason = await each.run(send).catch((error: unknown) => `no answer: ${(error as Error).message}`);
    results.push({ case: each.name, request: each.describes, passed: reason === undefined, reason });
    progress.finished(each.name, reason === undefined);
  }
  progress.stop();

  const table = new Table({ head: ['case', 'result', 'reason'], style: { head: [], border: [] }, wordWrap: true, colWidths: [34, 8, 70] });
  for (const result of results) table.push([result.case, result.passed ? 'PASS' : 'FAIL', result.reason ?? '']);
  const failed = results.filter((result) => !result.passed).length;
  process.stdout.write(`${table.toString()}\n${results.length - failed} passed, ${failed} failed\n`);

  const report = { url: options.url, suite: options.suite, at: new Date().toISOString(), passed: results.length - failed, failed, results };
  fs.writeFileSync(options.report, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`Report written to ${options.report}\n`);
  return failed === 0;
}

const program = new Command('certify')
  .description('Certify a Generic Pay Connector endpoint the way Twilio and a merchant would, before going live.')
  .requiredOption('--url <url>', 'the connector endpoint, e.g. http://localhost:8080')
  .requiredOption('--username <username>', 'the connector USERNAME (PayConex: account id)')
  .requiredOption('--password <password>', 'the connector PASSWORD (PayConex: API access key)')
  .addOption(new Option('--suite <suite>', 'which expectations to hold the answers to').choices(['sandbox', 'payconex-cert']).default('sandbox'))
  .option('--report <file>', 'where to write the JSON report', 'certify-report.json')
  .action(async (options: Options) => {
    process.exitCode = (await certify(options)) ? 0 : 1;
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`certify: ${(error as Error).message}\n`);
  process.exit(1);
});

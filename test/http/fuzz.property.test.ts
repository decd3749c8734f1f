import http from 'node:http';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { startService, type TestService } from '../helpers/service';
import { AMEX } from '../helpers/flows';
import { expectNoSecrets } from '../helpers/leaks';
import { BANK_ACCOUNT, CVV, ROUTING, VISA, basicAuth } from '../helpers/test-data';

/**
 * Property: whatever arrives (random JSON, wrong types, huge strings, deep nesting,
 * unicode, prototype keys, missing fields, every field boundary, raw bytes), the
 * answer has the contract's shape and a documented status, never 5xx, and no test
 * secret reaches any output. FUZZ_RUNS sets the number of cases (default 10,000).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const DOCUMENTED_STATUSES = new Set([200, 400, 401, 404, 413, 415]);

const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
const anyValue = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ minLength: 5000, maxLength: 20000 }),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
);
const orAnything = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary }, { weight: 1, arbitrary: anyValue });

const field = {
  method: orAnything(fc.constantFrom('charge', 'tokenize', 'CHARGE', 'refund', '')),
  // Printable ASCII pays; control characters, other code points and blank ids are refused.
  transaction_id: orAnything(
    fc.oneof(
      fc.uuid(),
      fc.string({ minLength: 0, maxLength: 300 }),
      fc.string({ unit: 'binary-ascii', maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.stringMatching(/^ {0,5}$/),
    ),
  ),
  cardnumber: orAnything(fc.oneof(fc.constantFrom(VISA, AMEX, `${VISA}0`, VISA.slice(0, 11)), digits(11, 20))),
  cvv: orAnything(fc.oneof(fc.constant(CVV), digits(2, 5))),
  expiry_month: orAnything(fc.constantFrom('0', '00', '1', '8', '08', '12', '13', '99')),
  expiry_year: orAnything(fc.oneof(digits(1, 5), fc.constantFrom('27', '2031', '19'))),
  postal_code: orAnything(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('94111', 'K1A 0B1'))),
  bankaccountnumber: orAnything(fc.oneof(fc.constant(BANK_ACCOUNT), digits(3, 18))),
  routingnumber: orAnything(fc.oneof(fc.constant(ROUTING), digits(8, 10))),
  amount: orAnything(
    fc.oneof(
      fc.constantFrom('0', '0.00', '0.01', '1', '10.0', '999999.99', '1000000', '1.005', '-1', '1e3', ' 5', '5 ', '1.01'),
      fc.integer({ min: 1, max: 99_999_999 }).filter((cents) => ![202, 303, 404, 505].includes(cents)).map((cents) => (cents / 100).toFixed(2)),
    ),
  ),
  currency_code: orAnything(fc.constantFrom('USD', 'usd', 'EU', 'EURO', '')),
  description: anyValue,
  parameters: orAnything(
    fc.dictionary(
      fc.oneof(fc.string({ maxLength: 70 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'first_name', 'account_id')),
      fc.oneof(fc.string({ maxLength: 600 }), fc.integer(), fc.constant(null), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 })),
      { maxKeys: 60 },
    ),
  ),
};

const contractBody = fc.record(field, { requiredKeys: [] }).map((body) => JSON.stringify(body));
const nestedBody = fc.integer({ min: 1, max: 12 }).map((depth) => JSON.stringify({ method: 'charge', transaction_id: 'deep', description: JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`) }));
const prototypeBody = contractBody.map((text) => text.replace('{', `{"__proto__":{"polluted":true},`));
const body = fc.oneof(
  { weight: 12, arbitrary: contractBody },
  { weight: 2, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: nestedBody },
  { weight: 1, arbitrary: prototypeBody },
  { weight: 1, arbitrary: fc.string({ minLength: 16 * 1024, maxLength: 17 * 1024 }) },
);
const path = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('/', '/charge', '/tokenize', '/connectors/payconex', '/connectors/payconex/charge', '/connectors/payconex/tokenize') },
  // Escapes the router cannot decode, and names that are no connector.
  { weight: 1, arbitrary: fc.constantFrom('/connectors/%E0%A4%A', '/connectors/pay%conex', '/connectors/%', '/connectors/%00', '/%ZZ', '/connectors/payconex%2Fcharge') },
);
/** A Content-Encoding, and whether the body really is encoded that way. */
const encoding = fc.record({
  name: fc.constantFrom(undefined, undefined, undefined, 'gzip', 'deflate', 'br', 'identity', 'x-unknown', 'gzip, gzip'),
  honest: fc.boolean(),
});
const encoders: Record<string, (data: Buffer) => Buffer> = { gzip: zlib.gzipSync, deflate: zlib.deflateSync, br: zlib.brotliCompressSync };
const contentType = fc.constantFrom(undefined, '', 'application/json', 'text/plain', 'application/octet-stream', 'application/json; charset=utf-8');

let service: TestService;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
beforeAll(async () => {
  service = await startService({ LOG_LEVEL: 'silly', GATEWAY_TIMEOUT_MS: '300' });
});
afterAll(async () => {
  agent.destroy();
  await service.stop();
});

function send(
  target: string,
  payload: string | Buffer,
  type: string | undefined,
  encoded: { name?: string; honest: boolean },
): Promise<{ status: number; contentType: string; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Authorization: basicAuth() };
    if (type !== undefined) headers['Content-Type'] = type;
    if (encoded.name !== undefined) {
      headers['Content-Encoding'] = encoded.name;
      const encoder = encoders[encoded.name];
      if (encoded.honest && encoder) payload = encoder(Buffer.from(payload));
    }
    const call = http.request(`${service.url}${target}`, { method: 'POST', headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), text }));
    });
    call.on('error', reject);
    call.end(payload);
  });
}

test(`when ${RUNS} generated bodies are posted, then each answer has the documented shape and status and nothing leaks`, async () => {
  const answers: string[] = [];
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(body, path, contentType, encoding, async (payload, target, type, encoded) => {
      const answer = await send(target, payload, type, encoded);
      answers.push(answer.text);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      expect(DOCUMENTED_STATUSES).toContain(answer.status);
      expect(answer.contentType).toMatch(/^application\/json/);
      const parsed = JSON.parse(answer.text) as Record<string, unknown>;
      const idKeys = Object.keys(parsed).filter((key) => key === 'charge_id' || key === 'token_id');
      expect(idKeys).toHaveLength(1);
      expect(Object.keys(parsed).slice(0, 3)).toEqual([idKeys[0], 'error_code', 'error_message']);
      if (parsed.error_code === null) expect(typeof parsed[idKeys[0]!]).toBe('string');
      else expect(parsed[idKeys[0]!]).toBeNull();
    }),
    { numRuns: RUNS, interruptAfterTimeLimit: 240_000, markInterruptAsFailure: true },
  );
  // The generators reach every kind of answer, and a prototype was never polluted.
  expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 400, 404, 413, 415]));
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(service.logs.text).not.toContain('unexpected error');
  expectNoSecrets([service.logs.text, answers.join('\n')].join('\n'));
}, 300_000);

import request from 'supertest';
import { startService, type TestService } from '../helpers/service';
import { basicAuth, cardCharge } from '../helpers/test-data';

/**
 * Generated hostile bodies (deterministic seed): wrong types, huge and odd values,
 * prototype keys, raw bytes. Whatever comes in, the answer is the contract's JSON
 * shape with a non-5xx status, and the service keeps serving.
 */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  return { next, pick };
}

const FIELDS = [
  'method', 'transaction_id', 'cardnumber', 'cvv', 'expiry_month', 'expiry_year', 'postal_code', 'bankaccountnumber',
  'routingnumber', 'amount', 'currency_code', 'description', 'parameters', '__proto__', 'constructor', 'prototype',
];

const random = generator(20261125);

function hostileValue(depth = 0): unknown {
  const choices: Array<() => unknown> = [
    () => null,
    () => true,
    () => '',
    () => ' ',
    () => random.pick(['charge', 'tokenize', 'CHARGE', 'refund']),
    () => random.pick(['4111111111111111', '0', '-1', '1e400', '10.0', '0.001', '08', '2027', 'NaN', 'Infinity']),
    () => Math.floor(random.next() * 1e6) * (random.next() < 0.5 ? -1 : 1),
    () => 1e308,
    () => random.next(),
    () => 'x'.repeat(Math.floor(random.next() * 5000)),
    () => '\u0000\u202e\ud800' + String.fromCharCode(Math.floor(random.next() * 0xffff)),
    () => '<script>alert(1)</script>',
    () => "'; DROP TABLE transactions; --",
    () => (depth < 3 ? [hostileValue(depth + 1), hostileValue(depth + 1)] : []),
    () => (depth < 3 ? { [random.pick(FIELDS)]: hostileValue(depth + 1), __proto__: { polluted: true } } : {}),
  ];
  return random.pick(choices)();
}

function hostileBody(): string {
  const roll = random.next();
  if (roll < 0.1) {
    return Buffer.from(Array.from({ length: Math.floor(random.next() * 200) }, () => Math.floor(random.next() * 256))).toString('latin1');
  }
  const body: Record<string, unknown> = roll < 0.5 ? cardCharge() : {};
  const changes = 1 + Math.floor(random.next() * 4);
  for (let i = 0; i < changes; i++) body[random.pick(FIELDS)] = hostileValue();
  let text = JSON.stringify(body);
  if (random.next() < 0.2) text = text.replace('{', '{"__proto__":{"isAdmin":true},');
  return text;
}

let service: TestService;
beforeAll(async () => {
  service = await startService({ LOG_LEVEL: 'warn', GATEWAY_TIMEOUT_MS: '300' });
});
afterAll(async () => {
  await service.stop();
});

test('when 300 hostile bodies are posted, then every answer has the contract shape and a non-5xx status', async () => {
  const statuses = new Set<number>();
  for (let i = 0; i < 300; i++) {
    const body = hostileBody();
    const path = random.pick(['/', '/charge', '/tokenize', '/connectors/payconex']);
    const contentType = random.pick(['application/json', 'text/plain', 'application/octet-stream', 'application/json; charset=utf-8']);
    const response = await request(service.url).post(path).set('Authorization', basicAuth()).set('Content-Type', contentType).send(body);
    statuses.add(response.status);
    expect(response.status).toBeLessThan(500);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(response.body)).toEqual(expect.arrayContaining(['error_code', 'error_message']));
    expect(Object.keys(response.body).some((key) => key === 'charge_id' || key === 'token_id')).toBe(true);
  }
  expect(statuses.has(200)).toBe(true);
  expect(statuses.has(400)).toBe(true);
  expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();

  const stillServing = await request(service.url).post('/').set('Authorization', basicAuth()).send(cardCharge());
  expect(stillServing.body.charge_id).toMatch(/^\d{12}$/);
  expect(service.logs.text).not.toContain('unexpected error');
});

import net from 'node:net';
import { inspect } from 'node:util';
import request from 'supertest';
import { parseJsonObject } from '../../src/http/json-body';
import { startService, type TestService } from '../helpers/service';
import { BANK_ACCOUNT, CVV, ROUTING, VISA, basicAuth, cardCharge } from '../helpers/test-data';
import { expectNoneOf } from '../helpers/leaks';

let service: TestService;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service.stop();
});

const post = (raw: string) => request(service.url).post('/').set('Authorization', basicAuth()).set('Content-Type', 'application/json').send(raw);

const nested = (depth: number): unknown => (depth === 0 ? 'x' : { level: nested(depth - 1) });

describe('when the body breaks a structural limit, then 400 with the limit code', () => {
  test.each([
    ['nests 6 levels deep', JSON.stringify(cardCharge({ description: nested(5) })), 'BODY_TOO_COMPLEX', 'The body nests deeper than 5 levels'],
    [
      'has more than 200 keys',
      JSON.stringify(cardCharge({ description: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, 1])) })),
      'BODY_TOO_COMPLEX',
      'The body has more than 200 keys',
    ],
    ['has a __proto__ key', JSON.stringify(cardCharge()).replace('{', '{"__proto__":{"admin":true},'), 'FORBIDDEN_KEY', 'The body has a forbidden key "__proto__"'],
    ['has a nested constructor key', JSON.stringify(cardCharge({ parameters: { constructor: 'x' } })), 'FORBIDDEN_KEY', 'The body has a forbidden key "constructor"'],
    ['has a prototype key', JSON.stringify(cardCharge({ description: { prototype: {} } })), 'FORBIDDEN_KEY', 'The body has a forbidden key "prototype"'],
  ])('when the body %s', async (_label, raw, code, message) => {
    const response = await post(raw);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ charge_id: null, error_code: code, error_message: message });
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});

describe('when a field breaks its length limit, then HTTP 200 with the limit code', () => {
  test.each([
    ['transaction_id has 256 characters', { transaction_id: 't'.repeat(256) }, 'FIELD_TOO_LONG', 'transaction_id is longer than 255 characters'],
    ['description has 1001 characters', { description: 'd'.repeat(1001) }, 'FIELD_TOO_LONG', 'description is longer than 1000 characters'],
    ['description is an object longer than 1000 characters as JSON', { description: { text: 'd'.repeat(1000) } }, 'FIELD_TOO_LONG', 'description is longer than 1000 characters'],
    ['a parameter value has 501 characters', { parameters: { note: 'n'.repeat(501) } }, 'FIELD_TOO_LONG', 'parameters.note is longer than 500 characters'],
    ['a parameter name has 65 characters', { parameters: { ['p'.repeat(65)]: 'x' } }, 'FIELD_TOO_LONG', 'a parameters name is longer than 64 characters'],
    [
      'parameters has 51 keys',
      { parameters: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`p${i}`, 'x'])) },
      'TOO_MANY_PARAMETERS',
      'parameters has more than 50 keys',
    ],
  ])('when %s', async (_label, change, code, message) => {
    const response = await post(JSON.stringify(cardCharge(change)));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ charge_id: null, error_code: code, error_message: message });
  });

  test('when fields are exactly at their limits, then the payment goes through', async () => {
    const parameters = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`p${i}`.padEnd(64, 'x'), 'v']));
    const atLimits = cardCharge({ transaction_id: 't'.repeat(255), description: 'd'.repeat(1000), parameters: { ...parameters } });
    (atLimits.parameters as Record<string, string>)[`p0`.padEnd(64, 'x')] = 'v'.repeat(500);
    const response = await post(JSON.stringify(atLimits));
    expect(response.body).toEqual({ charge_id: expect.stringMatching(/^\d{12}$/), error_code: null, error_message: null });
  });
});

test('when a body is parsed, then its card and bank fields are already masked wherever it is printed', () => {
  const body = parseJsonObject(JSON.stringify({ cardnumber: VISA, cvv: CVV, bankaccountnumber: BANK_ACCOUNT, routingnumber: ROUTING, amount: '1' }));
  const printed = [inspect(body), JSON.stringify(body), String(Object.values(body))].join('\n');
  expectNoneOf(printed, [VISA, CVV, BANK_ACCOUNT, ROUTING]);
  expect(printed).toContain('****1111');
  expect(body.amount).toBe('1');
});

/** Sends raw bytes on a new connection; resolves with everything the service wrote before closing. */
function rawExchange(text: string): Promise<string> {
  const { hostname, port } = new URL(service.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(text));
    let reply = '';
    socket.on('data', (chunk) => (reply += chunk.toString()));
    socket.on('close', () => resolve(reply));
    socket.on('error', () => undefined);
  });
}

describe('when Node itself refuses the request, then the answer still has the contract shape and a request id', () => {
  test.each([
    ['the request line is garbage', 'GARBAGE\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    ['a header line is malformed', 'POST / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    ['the headers exceed 16 KB', `POST / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
  ])('when %s, then %i %s', async (_case, text, status, code) => {
    const reply = await rawExchange(text);
    const [head = '', body = ''] = reply.split('\r\n\r\n');
    expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(head).toMatch(/\r\nX-Request-Id: [0-9a-f-]{36}\r\n/i);
    expect(head).toMatch(/\r\nConnection: close/i);
    expect(JSON.parse(body)).toEqual({ charge_id: null, error_code: code, error_message: expect.any(String) });
    const requestId = /X-Request-Id: (\S+)/i.exec(head)![1];
    expect(service.logs.entries().find((entry) => entry.request_id === requestId)).toMatchObject({ status, error_code: code });
  });
});

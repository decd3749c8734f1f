import http from 'node:http';
import net from 'node:net';
import request from 'supertest';
import { RECORDED_CHARGE_ID, serviceOnRecordingGateway } from '../helpers/recording-gateway';
import { startService, type TestService } from '../helpers/service';
import { ACCESS_KEY, ACCOUNT_ID, achCharge, basicAuth, cardCharge, cardTokenize } from '../helpers/test-data';

/** Component tests: the real service, the real embedded sandbox gateway, real HTTP on loopback. */
let service: TestService;

beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service.stop();
});

const post = (path: string, body: unknown, auth = basicAuth()) =>
  request(service.url).post(path).set('Authorization', auth).set('Content-Type', 'application/json').send(JSON.stringify(body));

describe('when a payment is sent to the default connector', () => {
  test('when a card charge is approved, then HTTP 200 carries the sandbox transaction id as charge_id', async () => {
    const response = await post('/', cardCharge());
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ charge_id: expect.stringMatching(/^\d{12}$/), error_code: null, error_message: null });
    expect(response.headers['x-request-id']).toMatch(/\S+/);
  });

  test('when a card is tokenized, then the answer has token_id and no charge_id', async () => {
    const response = await post('/', cardTokenize());
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ token_id: expect.stringMatching(/^\d{12}$/), error_code: null, error_message: null });
  });

  test('when a bank account is charged, then the ACH charge is approved', async () => {
    const response = await post('/', achCharge());
    expect(response.body).toEqual({ charge_id: expect.stringMatching(/^\d{12}$/), error_code: null, error_message: null });
  });

  test('when a bank account is tokenized, then the answer has token_id', async () => {
    const { amount: _a, currency_code: _c, ...ach } = achCharge({ method: 'tokenize' });
    const response = await post('/', ach);
    expect(response.body).toEqual({ token_id: expect.stringMatching(/^\d{12}$/), error_code: null, error_message: null });
  });

  test('when the amount is 1.01, then the decline is HTTP 200 with charge_id null and error_code 30002', async () => {
    const response = await post('/', cardCharge({ amount: '1.01' }));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ charge_id: null, error_code: '30002', error_message: 'DECLINED' });
  });

  test('when the card number fails the Luhn check, then the gateway answers 30370', async () => {
    const response = await post('/', cardCharge({ cardnumber: '4111111111111112' }));
    expect(response.body).toEqual({ charge_id: null, error_code: '30370', error_message: 'CARD DATA UNREADABLE' });
  });

  test('when the card has expired, then the bridge passes it on and the gateway declines it', async () => {
    const response = await post('/', cardCharge({ expiry_month: '01', expiry_year: '20' }));
    expect(response.body).toEqual({ charge_id: null, error_code: '30002', error_message: 'DECLINED' });
  });

  test('when the routing number fails the ABA checksum, then the gateway answers 20019', async () => {
    const response = await post('/', achCharge({ routingnumber: '123456789' }));
    expect(response.body).toEqual({ charge_id: null, error_code: '20019', error_message: 'Invalid bank_routing_number' });
  });

  test('when the same payment goes to /connectors/payconex, then it is served by that mapping', async () => {
    const response = await post('/connectors/payconex', cardCharge());
    expect(response.body.charge_id).toMatch(/^\d{12}$/);
  });
});

describe('when the gateway misbehaves', () => {
  test.each([
    ['3.03', 'GATEWAY_HTTP_ERROR', 'The gateway answered HTTP 500'],
    ['4.04', 'GATEWAY_BAD_RESPONSE', 'The gateway answer is not valid JSON'],
    ['5.05', 'GATEWAY_NO_RESPONSE', 'The connection to the gateway broke before an answer; the outcome is unknown'],
  ])('when the amount is %s, then the answer is HTTP 200 with %s', async (amount, code, message) => {
    const response = await post('/', cardCharge({ amount }));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ charge_id: null, error_code: code, error_message: message });
  });

  test('when the gateway is slower than GATEWAY_TIMEOUT_MS, then the answer is GATEWAY_TIMEOUT', async () => {
    const impatient = await startService({ GATEWAY_TIMEOUT_MS: '300' });
    try {
      const response = await request(impatient.url).post('/').set('Authorization', basicAuth()).send(cardCharge({ amount: '2.02' }));
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        charge_id: null,
        error_code: 'GATEWAY_TIMEOUT',
        error_message: 'The gateway did not answer in time; the outcome is unknown',
      });
    } finally {
      await impatient.stop();
    }
  });

  test('when the gateway cannot be reached, then the answer is GATEWAY_UNREACHABLE', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const stranded = await startService({ GATEWAY_URL_PAYCONEX: `http://127.0.0.1:${closedPort}/api/qsapi/3.8` });
    try {
      const response = await request(stranded.url).post('/').set('Authorization', basicAuth()).send(cardCharge());
      expect(response.body).toEqual({
        charge_id: null,
        error_code: 'GATEWAY_UNREACHABLE',
        error_message: 'The gateway could not be reached; nothing was sent',
      });
    } finally {
      await stranded.stop();
    }
  });
});

describe('when Content-Type is missing, empty or not JSON', () => {
  test.each([
    ['no Content-Type', undefined],
    ['an empty Content-Type', ''],
    ['text/plain', 'text/plain'],
    ['application/json', 'application/json'],
    ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
  ])('when the body is sent with %s, then it is parsed as JSON', async (_label, contentType) => {
    const body = JSON.stringify(cardCharge());
    const headers: Record<string, string> = { Authorization: basicAuth(), 'User-Agent': 'AHC/2.1' };
    if (contentType !== undefined) headers['Content-Type'] = contentType;
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      // http.request, not supertest: supertest would add a Content-Type of its own.
      const call = http.request(`${service.url}/`, { method: 'POST', headers }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      call.on('error', reject);
      call.end(body);
    });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ charge_id: expect.stringMatching(/^\d{12}$/), error_code: null, error_message: null });
  });
});

describe('when the legacy /charge and /tokenize paths are used', () => {
  test('when /charge receives a body without method, then it charges', async () => {
    const { method: _m, ...body } = cardCharge();
    const response = await post('/charge', body);
    expect(response.body).toEqual({ charge_id: expect.stringMatching(/^\d{12}$/), error_code: null, error_message: null });
  });

  test('when /connectors/payconex/tokenize receives a body without method, then it tokenizes', async () => {
    const { method: _m, ...body } = cardTokenize();
    const response = await post('/connectors/payconex/tokenize', body);
    expect(response.body).toEqual({ token_id: expect.stringMatching(/^\d{12}$/), error_code: null, error_message: null });
  });

  test('when the body has a method, then the body wins over the path', async () => {
    const response = await post('/charge', cardTokenize());
    expect(response.body).toHaveProperty('token_id');
  });
});

describe('when credentials are missing or wrong', () => {
  test.each([
    ['no Authorization header', undefined, 'HTTP Basic auth is required'],
    ['a Bearer token', 'Bearer abc', 'HTTP Basic auth is required'],
    ['a username that is not an account id', basicAuth('merchant', ACCESS_KEY), 'The Basic auth credentials are not valid for payconex'],
    ['a short access key', basicAuth(ACCOUNT_ID, 'short'), 'The Basic auth credentials are not valid for payconex'],
  ])('when the request has %s, then 401 with WWW-Authenticate', async (_label, auth, message) => {
    const call = request(service.url).post('/').send(cardCharge());
    const response = await (auth ? call.set('Authorization', auth) : call);
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect(response.body).toEqual({ charge_id: null, error_code: 'UNAUTHORIZED', error_message: expect.stringContaining(message) });
  });

  test('when the gateway refuses a well-formed account, then 401', async () => {
    const response = await post('/', cardCharge(), basicAuth('12345678901', ACCESS_KEY));
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ charge_id: null, error_code: 'UNAUTHORIZED', error_message: 'The gateway refused the credentials' });
  });
});

describe('when the body is not a JSON object', () => {
  test.each([
    ['invalid JSON', '{"method":"charge",', 'The body is not valid JSON'],
    ['an array', '[1,2]', 'The body must be a JSON object'],
    ['a string', '"charge"', 'The body must be a JSON object'],
    ['null', 'null', 'The body must be a JSON object'],
    ['nothing', '', 'The body is empty; a JSON object is expected'],
  ])('when the body is %s, then 400 MALFORMED_BODY', async (_label, raw, message) => {
    const response = await request(service.url).post('/').set('Authorization', basicAuth()).set('Content-Type', 'application/json').send(raw);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ charge_id: null, error_code: 'MALFORMED_BODY', error_message: message });
  });

  test('when a /tokenize body is invalid JSON, then the answer carries token_id null', async () => {
    const response = await request(service.url).post('/tokenize').set('Authorization', basicAuth()).send('{');
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ token_id: null, error_code: 'MALFORMED_BODY', error_message: 'The body is not valid JSON' });
  });

  test('when the body is larger than 16 KB, then 413', async () => {
    const response = await post('/', cardCharge({ description: 'x'.repeat(17 * 1024) }));
    expect(response.status).toBe(413);
    expect(response.body).toEqual({ charge_id: null, error_code: 'PAYLOAD_TOO_LARGE', error_message: 'The body is larger than the service accepts' });
  });

  test('when the charset is unknown, then 415', async () => {
    const response = await request(service.url)
      .post('/')
      .set('Authorization', basicAuth())
      .set('Content-Type', 'application/json; charset=klingon')
      .send(JSON.stringify(cardCharge()));
    expect(response.status).toBe(415);
    expect(response.body.error_code).toBe('UNSUPPORTED_ENCODING');
  });
});

describe('when the path or HTTP method is not served', () => {
  test('when the connector is unknown, then 404', async () => {
    const response = await post('/connectors/nosuchgateway', cardCharge());
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ charge_id: null, error_code: 'NOT_FOUND', error_message: 'No connector of that name' });
  });

  test('when the path is unknown, then 404 in the same JSON shape', async () => {
    const response = await post('/payments', cardCharge());
    expect(response.status).toBe(404);
    expect(response.body.error_code).toBe('NOT_FOUND');
  });

  test('when GET is used on a connector path, then 405 with Allow: POST', async () => {
    const response = await request(service.url).get('/connectors/payconex');
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('POST');
    expect(response.body.error_code).toBe('METHOD_NOT_ALLOWED');
  });
});

describe('when a field is invalid', () => {
  test.each([
    ['method is unknown', { method: 'refund' }, 'method must be "charge" or "tokenize"'],
    ['transaction_id is missing', { transaction_id: undefined }, 'transaction_id is required'],
    ['cardnumber has letters', { cardnumber: '4111x11111111111' }, 'cardnumber must be 12 to 19 digits'],
    ['expiry_month is 13', { expiry_month: '13' }, 'expiry_month must be a month from 1 to 12'],
    ['expiry_year has 3 digits', { expiry_year: '202' }, 'expiry_year must be 2 or 4 digits'],
    ['expiry_month is missing', { expiry_month: undefined }, 'expiry_month is required'],
    ['cvv has 5 digits', { cvv: '12345' }, 'cvv must be 3 or 4 digits'],
    ['amount is missing on a charge', { amount: undefined }, 'amount is required for charge'],
    ['amount is zero on a charge', { amount: '0.00' }, 'amount must be greater than 0 for charge'],
    ['amount is negative', { amount: '-5' }, 'amount must be a decimal amount'],
    ['amount is one million', { amount: '1000000' }, 'amount must be less than 1000000'],
    ['amount has 3 decimals', { amount: '1.005' }, 'amount must have at most 2 decimal places'],
    ['currency_code is not 3 letters', { currency_code: 'US' }, 'currency_code must be a 3-letter ISO 4217 code'],
    ['both card and bank are sent', { bankaccountnumber: '12345678', routingnumber: '244183602' }, 'not both'],
    ['neither card nor bank is sent', { cardnumber: undefined }, 'cardnumber or bankaccountnumber is required'],
    ['parameters is nested', { parameters: { customer: { name: 'x' } } }, 'parameters.customer must be a string'],
    ['description is a number array', { description: [1, 2] }, 'description must be a string, an object or null'],
    // eslint-disable-next-line no-loss-of-precision -- the point: a JSON parser rounds it into another card's number
    ['cardnumber is a JSON number, rounded by any JSON parser', { cardnumber: 6200000000000000005 }, 'cardnumber must be a string (a JSON number loses digits)'],
    ['cvv is a JSON number', { cvv: 123 }, 'cvv must be a string'],
  ])('when %s, then HTTP 200 INVALID_REQUEST names the field', async (_label, change, message) => {
    const response = await post('/', cardCharge(change));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ charge_id: null, error_code: 'INVALID_REQUEST', error_message: expect.stringContaining(message) });
  });

  test('when tokenize carries a non-zero amount, then INVALID_REQUEST', async () => {
    const response = await post('/', cardTokenize({ amount: '5.00' }));
    expect(response.body).toEqual({ token_id: null, error_code: 'INVALID_REQUEST', error_message: 'Invalid request: amount must be absent or "0" for tokenize' });
  });

  test('when unknown keys are present, then they are ignored', async () => {
    const response = await post('/', cardCharge({ call_sid: 'CA123', token_type: 'reusable', bank_account_type: 'consumer-checking' }));
    expect(response.body.charge_id).toMatch(/^\d{12}$/);
  });

  test('when amount and expiry are JSON numbers, then they are accepted as Twilio strings would be', async () => {
    const response = await post('/', cardCharge({ amount: 12.5, expiry_month: 8, expiry_year: 2030 }));
    expect(response.body.charge_id).toMatch(/^\d{12}$/);
  });
});

// Twilio's transaction ids are UUIDs. Anything else printable still pays; a control or non-ASCII
// character would reach the journal, the logs and the CSV export, so it is refused before the gateway.
describe('when transaction_id is not printable ASCII', () => {
  const recorded = serviceOnRecordingGateway();
  const gateway = recorded.gateway;
  const pay = (transactionId: string) =>
    request(recorded.service.url).post('/').set('Authorization', basicAuth()).set('Content-Type', 'application/json').send(JSON.stringify(cardCharge({ transaction_id: transactionId })));

  test.each([
    ['a NUL', 'tx\u0000id'],
    ['a tab', 'tx\tid'],
    ['a line break', 'tx\r\nid'],
    ['DEL', 'tx\u007fid'],
    ['an accented letter', 'café-1'],
    ['an emoji', 'tx-💳'],
    ['a non-breaking space', 'tx\u00a0id'],
    ['only spaces', '   '],
    ['one space', ' '],
  ])('when it holds %s, then HTTP 200 INVALID_REQUEST and the gateway is not called', async (_label, transactionId) => {
    const before = gateway.requests.length;
    const response = await pay(transactionId);
    expect(response.status).toBe(200);
    expect(response.text).toBe(
      '{"charge_id":null,"error_code":"INVALID_REQUEST","error_message":"Invalid request: transaction_id must be 1 to 255 printable ASCII characters, not only spaces"}',
    );
    expect(gateway.requests.length).toBe(before);
  });

  test.each([
    ['a UUID', '72500aba-328c-445c-a12e-da5700e10b17'],
    ['255 printable characters, spaces and punctuation among them', Array.from({ length: 255 }, (_, i) => String.fromCharCode(0x20 + (i % 95))).join('')],
    ['leading and trailing spaces', ' tx-1 '],
  ])('when it is %s, then the payment goes through', async (_label, transactionId) => {
    const before = gateway.requests.length;
    const response = await pay(transactionId);
    expect(response.body).toEqual({ charge_id: RECORDED_CHARGE_ID, error_code: null, error_message: null });
    expect(gateway.requests.length).toBe(before + 1);
  });
});

describe('when a request has been answered', () => {
  test('when a charge completes, then one log line describes it with masked card data', async () => {
    const body = cardCharge();
    const response = await post('/', body).set('X-Request-Id', 'req-log-check-1');
    const line = service.logs.entries().find((entry) => entry.request_id === 'req-log-check-1' && entry.message === 'payment');
    expect(line).toMatchObject({
      message: 'payment',
      connector: 'payconex',
      method: 'charge',
      tender: 'card',
      transaction_id: body.transaction_id,
      card_brand: 'visa',
      last4: '1111',
      outcome: 'approved',
      status: 200,
      gateway_ms: expect.any(Number),
      total_ms: expect.any(Number),
    });
    expect(response.headers['x-request-id']).toBe('req-log-check-1');
  });
});

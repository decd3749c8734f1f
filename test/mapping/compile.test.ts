import path from 'node:path';
import { inspect } from 'node:util';
import { parsePaymentRequest } from '../../src/contract/payment-request';
import { InvalidRequest } from '../../src/errors';
import { parseJsonObject } from '../../src/http/json-body';
import { encodeGatewayRequest } from '../../src/gateway/gateway-client';
import { compileMapping, type CompiledMapping } from '../../src/mapping/compile';
import { loadMappingFile } from '../../src/mapping/load';
import { requestValues } from '../../src/mapping/values';
import { secret } from '../../src/redaction/secret';
import { mappingFolder, minimalMapping } from '../helpers/mapping-files';
import { cardCharge, achCharge, VISA, CVV } from '../helpers/test-data';
import { expectNoneOf } from '../helpers/leaks';

/** The mapping engine on its own: a mapping document in, a compiled mapping out. */
function mappingFor(document: Record<string, unknown>, env: Record<string, string> = {}): CompiledMapping {
  const folder = mappingFolder({ 'testgw.yaml': document });
  return compileMapping(loadMappingFile(path.join(folder, 'testgw.yaml')), (variable) => env[variable]);
}

function withFields(fields: Record<string, unknown>, request: Record<string, unknown> = {}) {
  return minimalMapping({ request: { encoding: 'form', fields, ...request } });
}

const credentials = { username: 'merchant-1', password: secret.hidden('s3cr3t-password') };

function build(compiled: CompiledMapping, body: Record<string, unknown>) {
  // As the HTTP layer reads it: card and bank fields arrive as Secrets.
  const payment = parsePaymentRequest(parseJsonObject(JSON.stringify(body)));
  return compiled.buildRequest(requestValues(payment, credentials), payment.method, payment.tender);
}

const wire = (compiled: CompiledMapping, body: Record<string, unknown>) => encodeGatewayRequest(build(compiled, body)).body;

describe('mapping engine: request side', () => {
  test('when month and year are concatenated with pad and last, then 8/2027 and 08/27 both give 0827', () => {
    const compiled = mappingFor(
      withFields(
        { exp: { concat: [{ from: 'expiry_month', pad: 2 }, { from: 'expiry_year', last: 2 }] } },
        { sensitive: ['exp'] },
      ),
    );
    expect(wire(compiled, cardCharge({ expiry_month: '8', expiry_year: '2027' }))).toBe('exp=0827');
    expect(wire(compiled, cardCharge({ expiry_month: '08', expiry_year: '27' }))).toBe('exp=0827');
  });

  test('when amounts are formatted, then decimal gives 2 decimals and minor-units gives cents', () => {
    const compiled = mappingFor(
      withFields({ amount: { from: 'amount', format: 'decimal' }, cents: { from: 'amount', format: 'minor-units' } }),
    );
    expect(wire(compiled, cardCharge({ amount: '10.0' }))).toBe('amount=10.00&cents=1000');
    expect(wire(compiled, cardCharge({ amount: '0.5' }))).toBe('amount=0.50&cents=50');
    expect(wire(compiled, cardCharge({ amount: '999999.99' }))).toBe('amount=999999.99&cents=99999999');
  });

  test('when a value map is given, then the value is translated', () => {
    const compiled = mappingFor(withFields({ type: { from: 'method', map: { charge: 'SALE', tokenize: 'STORE' } } }));
    expect(wire(compiled, cardCharge())).toBe('type=SALE');
  });

  test('when a parameter value has no entry in the map, then the request is refused without echoing it', () => {
    const compiled = mappingFor(
      withFields({ kind: { from: 'parameters.account_type', map: { checking: 'C', savings: 'S' }, optional: true } }),
    );
    expect(wire(compiled, cardCharge({ parameters: { account_type: 'savings' } }))).toBe('kind=S');
    expect(() => wire(compiled, cardCharge({ parameters: { account_type: 'brokerage' } }))).toThrow(
      new InvalidRequest('Invalid request: kind has no mapping for the value given'),
    );
  });

  test('when rules depend on method and tender, then only the matching fields are sent', () => {
    const compiled = mappingFor(
      withFields({
        payment: [
          { const: 'creditcard', when: { tender: 'card' } },
          { const: 'check', when: { tender: 'ach' } },
        ],
        amount: { from: 'amount', format: 'decimal', when: { method: 'charge' } },
      }),
    );
    expect(wire(compiled, cardCharge({ amount: '5' }))).toBe('payment=creditcard&amount=5.00');
    expect(wire(compiled, achCharge({ amount: '5' }))).toBe('payment=check&amount=5.00');
  });

  test('when a required field comes out empty, then INVALID_REQUEST names the field and its source', () => {
    const compiled = mappingFor(withFields({ zip: { from: 'postal_code' } }));
    expect(() => build(compiled, cardCharge({ postal_code: null }))).toThrow(
      new InvalidRequest('Invalid request: testgw needs zip (from postal_code), which is empty'),
    );
  });

  test('when an optional field is empty, then it is left out; when a default is given, then it is used', () => {
    const compiled = mappingFor(
      withFields({ zip: { from: 'postal_code', optional: true }, country: { from: 'parameters.country', default: 'US' } }),
    );
    expect(wire(compiled, cardCharge({ postal_code: null }))).toBe('country=US');
    expect(wire(compiled, cardCharge({ postal_code: '10001', parameters: { country: 'CA' } }))).toBe('zip=10001&country=CA');
  });

  test('when parameters are allowed, then only allowed keys pass, and mapped fields are not overridden unless allowed', () => {
    const compiled = mappingFor(
      withFields(
        { ref: { from: 'transaction_id' }, amount: { from: 'amount', format: 'decimal' }, memo: { const: 'phone' } },
        { parameters: { allow: '*', override: ['memo'] } },
      ),
    );
    const body = cardCharge({ transaction_id: 'tx-1', amount: '5', parameters: { amount: '0.01', ref: 'evil', memo: 'ivr', phone: '555' } });
    expect(wire(compiled, body)).toBe('ref=tx-1&amount=5.00&memo=ivr&phone=555');
  });

  test('when a mapping reads an environment variable, then its value is sent and held as a secret', () => {
    const compiled = mappingFor(withFields({ key: { from: 'env.TESTGW_KEY' } }, { sensitive: ['key'] }), { TESTGW_KEY: 'env-key-value' });
    const request = build(compiled, cardCharge());
    expect(encodeGatewayRequest(request).body).toBe('key=env-key-value');
    expect(JSON.stringify(request)).not.toContain('env-key-value');
  });

  test('when the encoding is JSON, then dotted names nest in the order written', () => {
    const compiled = mappingFor(
      minimalMapping({
        request: {
          encoding: 'json',
          fields: {
            'createTransactionRequest.merchantAuthentication.name': { from: 'auth.username' },
            'createTransactionRequest.transactionRequest.amount': { from: 'amount', format: 'decimal' },
            'createTransactionRequest.transactionRequest.payment.creditCard.cardNumber': { from: 'cardnumber' },
          },
          sensitive: ['createTransactionRequest.transactionRequest.payment.creditCard.cardNumber'],
        },
      }),
    );
    const { contentType, body } = encodeGatewayRequest(build(compiled, cardCharge({ amount: '3.5' })));
    expect(contentType).toBe('application/json');
    expect(body).toBe(
      JSON.stringify({
        createTransactionRequest: {
          merchantAuthentication: { name: 'merchant-1' },
          transactionRequest: { amount: '3.50', payment: { creditCard: { cardNumber: VISA } } },
        },
      }),
    );
  });

  test('when a mapped request is logged or inspected, then sensitive fields show only masks', () => {
    const compiled = mappingFor(
      withFields(
        { pan: { from: 'cardnumber' }, cvc: { from: 'cvv' }, pass: { from: 'auth.password' }, exp: { concat: [{ from: 'expiry_month' }, { from: 'expiry_year' }] } },
        { sensitive: ['pan', 'cvc', 'pass', 'exp'] },
      ),
    );
    const request = build(compiled, cardCharge({ expiry_month: '08', expiry_year: '31' }));
    const printed = [JSON.stringify(request), inspect(request, { depth: 5 }), String(request.fields.map(([, v]) => `${v}`))].join('\n');
    expectNoneOf(printed, [VISA, CVV, 's3cr3t-password', '0831']);
    expect(printed).toContain('****1111');
    expect(encodeGatewayRequest(request).body).toBe(`pan=${VISA}&cvc=${CVV}&pass=s3cr3t-password&exp=0831`);
  });

  test('when credentials have a declared shape, then only matching ones are accepted', () => {
    const compiled = mappingFor(
      minimalMapping({ credentials: { account: 'username', username: { pattern: '^[0-9]{4}$' }, password: { pattern: '^[a-z]{3}$', description: 'three letters' } } }),
    );
    expect(compiled.credentials.accepts('1234', 'abc')).toBe(true);
    expect(compiled.credentials.accepts('123', 'abc')).toBe(false);
    expect(compiled.credentials.accepts('1234', 'abcd')).toBe(false);
    expect(compiled.credentials.hint).toBe('the password is three letters');
  });
});

describe('mapping engine: answer side', () => {
  const charge = (compiled: CompiledMapping, body: string, status = 200) => compiled.readAnswer('charge', { status, body }, []);

  test('when success needs all of several conditions, then each is checked', () => {
    const compiled = mappingFor(
      minimalMapping({
        response: {
          encoding: 'json',
          success: { all: [{ path: 'result.code', in: ['A', 'B'] }, { not: { path: 'result.error', exists: true } }] },
          id: 'result.ids[1]',
          error_code: ['result.errors[0].code', 'result.code'],
          error_message: ['result.errors[0].text', 'result.text'],
        },
      }),
    );
    expect(charge(compiled, '{"result":{"code":"A","ids":["x","id-2"]}}')).toEqual({ approved: true, id: 'id-2', parameters: {} });
    expect(charge(compiled, '{"result":{"code":"A","error":"E","errors":[{"code":"E1","text":"bad"}]}}')).toEqual({
      approved: false,
      errorCode: 'E1',
      errorMessage: 'bad',
      parameters: {},
    });
    expect(charge(compiled, '{"result":{"code":"C","text":"no"}}')).toEqual({ approved: false, errorCode: 'C', errorMessage: 'no', parameters: {} });
  });

  test('when the answer is a query string, then it is read as form fields', () => {
    const compiled = mappingFor(
      minimalMapping({
        response: {
          encoding: 'form',
          success: { path: 'response', equals: 1 },
          id: 'transactionid',
          error_code: 'response_code',
          error_message: 'responsetext',
          parameters: { authcode: 'authcode' },
        },
      }),
    );
    expect(charge(compiled, 'response=1&responsetext=SUCCESS&authcode=123456&transactionid=981&response_code=100')).toEqual({
      approved: true,
      id: '981',
      parameters: { authcode: '123456' },
    });
    expect(charge(compiled, 'response=2&responsetext=DECLINE&transactionid=982&response_code=200')).toEqual({
      approved: false,
      errorCode: '200',
      errorMessage: 'DECLINE',
      parameters: {},
    });
    expect(() => charge(compiled, '<html>oops</html>')).toThrow('The gateway answer is not a query string');
  });

  test('when a JSON answer starts with a byte-order mark, then it is still read', () => {
    const compiled = mappingFor(minimalMapping());
    expect(charge(compiled, '\uFEFF{"ok":true,"id":"77"}')).toEqual({ approved: true, id: '77', parameters: {} });
  });

  test('when the answer is a JSON array, then it is a bad answer', () => {
    expect(() => charge(mappingFor(minimalMapping()), '[{"ok":true}]')).toThrow('The gateway answer is not a JSON object');
  });

  test('when success differs per method, then each method uses its own rule', () => {
    const compiled = mappingFor(
      minimalMapping({
        response: {
          encoding: 'json',
          success: { charge: { path: 'approved', equals: true }, tokenize: { path: 'error', equals: false } },
          id: 'id',
          error_code: 'code',
          error_message: 'message',
        },
      }),
    );
    const body = '{"error":false,"id":"tok-1","code":"0"}';
    expect(compiled.readAnswer('tokenize', { status: 200, body }, [])).toEqual({ approved: true, id: 'tok-1', parameters: {} });
    expect(compiled.readAnswer('charge', { status: 200, body }, [])).toMatchObject({ approved: false });
  });
});

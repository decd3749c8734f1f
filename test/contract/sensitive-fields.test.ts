/* eslint-disable @typescript-eslint/no-require-imports -- modules loaded afresh inside jest.isolateModules must be required */
import { inspect } from 'node:util';
import { parseJsonObject as shippedParser } from '../../src/http/json-body';
import { isSensitiveSource as shippedIsSensitiveSource } from '../../src/mapping/values';

/**
 * Which request fields carry card or bank data is declared once, by `x-sensitive` on the request
 * schema. A made-up field declared there, and nowhere else, must be protected everywhere the real
 * ones are: by the body parser, in the validated request, in the values a mapping reads, as a
 * source a mapping must declare sensitive, and in the list of secrets masked in gateway answers.
 */
const PIN = '482913';

type Modules = {
  parseJsonObject: (text: unknown) => Record<string, unknown>;
  parsePaymentRequest: typeof import('../../src/contract/payment-request').parsePaymentRequest;
  values: typeof import('../../src/mapping/values');
  secret: typeof import('../../src/redaction/secret');
};

/** The modules as they load when the schema declares one more sensitive field, `pin`. */
function withMadeUpField(): Modules {
  let modules: Modules | undefined;
  jest.isolateModules(() => {
    jest.doMock('../../src/contract/request-schema', () => {
      const actual = jest.requireActual<typeof import('../../src/contract/request-schema')>('../../src/contract/request-schema');
      const pin = { type: 'string', pattern: '^[0-9]{4,6}$', 'x-sensitive': 'hidden', description: 'must be 4 to 6 digits' };
      return { ...actual, connectorRequestSchema: { ...actual.connectorRequestSchema, properties: { ...actual.connectorRequestSchema.properties, pin } } };
    });
    modules = {
      parseJsonObject: (require('../../src/http/json-body') as typeof import('../../src/http/json-body')).parseJsonObject,
      parsePaymentRequest: (require('../../src/contract/payment-request') as typeof import('../../src/contract/payment-request')).parsePaymentRequest,
      values: require('../../src/mapping/values') as typeof import('../../src/mapping/values'),
      secret: require('../../src/redaction/secret') as typeof import('../../src/redaction/secret'),
    };
  });
  jest.dontMock('../../src/contract/request-schema');
  return modules!;
}

const body = { method: 'charge', transaction_id: 'pin-1', cardnumber: '4111111111111111', expiry_month: '8', expiry_year: '27', amount: '1.00', pin: PIN };

test('when a made-up field is declared sensitive on the schema alone, then the parser, the mapping values, the sensitive sources and the answer scrubbing all treat it as a secret', () => {
  const { parseJsonObject, parsePaymentRequest, values, secret } = withMadeUpField();
  const parsed = parseJsonObject(JSON.stringify(body));
  expect(parsed.pin).toBeInstanceOf(secret.Secret);
  expect([inspect(parsed), JSON.stringify(parsed)].join('\n')).not.toContain(PIN);

  const payment = parsePaymentRequest(parsed);
  const mapped = values.requestValues(payment, { username: 'u', password: secret.secret.hidden('p') });
  expect(mapped.get('pin')).toBeInstanceOf(secret.Secret);
  expect((mapped.get('pin') as InstanceType<typeof secret.Secret>).reveal()).toBe(PIN);
  expect(JSON.stringify([...mapped])).not.toContain(PIN);

  expect(values.isSensitiveSource('pin')).toBe(true);
  expect(secret.scrubSecrets(`the gateway echoed ${PIN}`, values.secretsOf(mapped))).toBe('the gateway echoed [redacted]');
  // Sent as a JSON number, it is refused like a card number: the parser may have changed its digits.
  expect(() => parsePaymentRequest(parseJsonObject(JSON.stringify({ ...body, pin: 482913 })))).toThrow('pin must be a string (a JSON number loses digits)');
});

test('when the schema is as shipped, then the made-up field is an ordinary unknown key', () => {
  expect(shippedParser(JSON.stringify(body)).pin).toBe(PIN);
  expect(shippedIsSensitiveSource('pin')).toBe(false);
  expect(['cardnumber', 'cvv', 'bankaccountnumber', 'routingnumber'].every(shippedIsSensitiveSource)).toBe(true);
});

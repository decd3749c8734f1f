import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadMappingFile } from '../../src/mapping/load';
import { fixtureCaseProblem, type FixtureCase, type FixtureFile } from '../helpers/fixture-runner';
import { REPO_ROOT } from '../helpers/service';

/**
 * The fixture files themselves, read without running them: every case that reaches the
 * gateway states the exact body it must send, and every file covers the case kinds of
 * issue 5 (approved card charge, decline, gateway validation error, card tokenize, ACH
 * charge, ACH tokenize, malformed answer).
 */
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'gateways');
const files = fs.readdirSync(FIXTURES).filter((name) => name.endsWith('.yaml')).sort();
const read = (file: string) => parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as FixtureFile;

/** The service's own error codes (src/errors.ts): anything else in an answer came from the gateway. */
const SERVICE_CODES = new Set(
  [...fs.readFileSync(path.join(REPO_ROOT, 'src', 'errors.ts'), 'utf8').matchAll(/readonly code = '([A-Z_]+)'/g)].map((match) => match[1]!),
);

describe('the fixture runner', () => {
  const base = { twilio: { method: 'charge' }, connector_answer: { body: {} } };

  test('when a case reaches the gateway with no expected body, then the case is refused, naming it', () => {
    expect(fixtureCaseProblem({ ...base, name: 'declined', gateway_answer: { body: { ok: false } } })).toMatch(
      /the case "declined" reaches the gateway but states no expected request body/,
    );
    expect(fixtureCaseProblem({ ...base, name: 'headers only', gateway_request: { method: 'POST', headers: { authorization: 'Basic x' } } })).toMatch(
      /the case "headers only" reaches the gateway but states no expected request body/,
    );
  });

  test('when a case states a form or JSON body, or says the gateway is not called, then it runs', () => {
    expect(fixtureCaseProblem({ ...base, name: 'form', gateway_request: { form: { a: '1' } } })).toBeUndefined();
    expect(fixtureCaseProblem({ ...base, name: 'json', gateway_request: { json: { a: '1' } } })).toBeUndefined();
    expect(fixtureCaseProblem({ ...base, name: 'none', gateway_request: 'none' })).toBeUndefined();
  });

  test('when a case states both a form and a JSON body, then it is refused', () => {
    expect(fixtureCaseProblem({ ...base, name: 'both', gateway_request: { form: { a: '1' }, json: { a: '1' } } })).toMatch(/states both/);
  });
});

describe.each(files)('test/fixtures/gateways/%s', (file) => {
  const fixture = read(file);
  const mapping = loadMappingFile(path.join(REPO_ROOT, 'mappings', `${fixture.connector}.yaml`)).document;
  const supports = (method: 'charge' | 'tokenize', tender: 'card' | 'ach') => (mapping.supports[method] ?? []).includes(tender);

  const methodOf = (c: FixtureCase) => (c.twilio.method as string | undefined) ?? (c.path?.endsWith('/tokenize') ? 'tokenize' : 'charge');
  const tenderOf = (c: FixtureCase) => (c.twilio.bankaccountnumber !== undefined ? 'ach' : 'card');
  const reachesGateway = (c: FixtureCase) => c.gateway_request !== 'none';
  const code = (c: FixtureCase) => c.connector_answer.body.error_code;
  const approved = (c: FixtureCase, method: string, tender: string) =>
    methodOf(c) === method && tenderOf(c) === tender && reachesGateway(c) && code(c) === null;
  const gatewayCode = (c: FixtureCase) => reachesGateway(c) && typeof code(c) === 'string' && !SERVICE_CODES.has(code(c) as string);
  const refusedUnsupported = (c: FixtureCase, method: string, tender: string) =>
    methodOf(c) === method && tenderOf(c) === tender && !reachesGateway(c) && code(c) === 'UNSUPPORTED_PAYMENT';

  test('when a case reaches the gateway, then it states the exact request body', () => {
    expect(fixture.cases.map(fixtureCaseProblem).filter(Boolean)).toEqual([]);
  });

  test('when the cases are listed, then every required kind is there', () => {
    const cases = fixture.cases;
    const covered = {
      'card charge approved': cases.some((c) => approved(c, 'charge', 'card')),
      'card charge declined': cases.some((c) => methodOf(c) === 'charge' && gatewayCode(c) && /declin/i.test(c.name)),
      'gateway validation error': cases.some((c) => gatewayCode(c) && /validation|refuses a field/i.test(c.name)),
      'card tokenize': cases.some((c) => approved(c, 'tokenize', 'card')),
      'ACH charge': cases.some((c) => (supports('charge', 'ach') ? approved(c, 'charge', 'ach') : refusedUnsupported(c, 'charge', 'ach'))),
      'ACH tokenize': cases.some((c) => (supports('tokenize', 'ach') ? approved(c, 'tokenize', 'ach') : refusedUnsupported(c, 'tokenize', 'ach'))),
      'malformed gateway answer': cases.some((c) => reachesGateway(c) && code(c) === 'GATEWAY_BAD_RESPONSE'),
    };
    expect(Object.entries(covered).filter(([, present]) => !present).map(([kind]) => kind)).toEqual([]);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { MappingError } from '../../src/errors';
import { compileMapping } from '../../src/mapping/compile';
import { loadMappingFile, loadMappingFolder } from '../../src/mapping/load';
import { mappingFolder, minimalMapping, payconexMappingText } from '../helpers/mapping-files';

function loadError(files: Record<string, string | object>): string {
  const folder = mappingFolder(files);
  try {
    for (const source of loadMappingFolder(folder)) compileMapping(source, () => undefined);
  } catch (error) {
    expect(error).toBeInstanceOf(MappingError);
    return (error as Error).message;
  }
  throw new Error('the mapping folder loaded without error');
}

describe('loading mapping files', () => {
  test('when the shipped PayConex mapping is loaded, then it passes the schema and compiles', () => {
    const folder = mappingFolder({ 'payconex.yaml': payconexMappingText() });
    const [source] = loadMappingFolder(folder);
    const translator = compileMapping(source!, () => undefined);
    expect(translator.name).toBe('payconex');
    expect(translator.supports('tokenize', 'ach')).toBe(true);
  });

  test('when a mapping does not say which credential identifies the account, then the error says where and what the choices are', () => {
    const broken = payconexMappingText().replace(/^ {2}account: username.*\n/m, '');
    expect(loadError({ 'payconex.yaml': broken })).toMatch(
      /payconex\.yaml:\d+:\d+: at credentials: missing required key "account": Which Basic credential .* username .* password .* or both/,
    );
  });

  test('when a field rule has an unknown key, then the error names the file, line and path', () => {
    const broken = payconexMappingText().replace('card_number: { from: cardnumber,', 'card_number: { form: cardnumber,');
    const message = loadError({ 'payconex.yaml': broken });
    expect(message).toMatch(/payconex\.yaml:\d+:\d+: at request\.fields\.card_number: unknown key "form"/);
  });

  test('when a padding is not a number, then the error points at the concat part', () => {
    const broken = payconexMappingText().replace('{ from: expiry_month, pad: 2 }', '{ from: expiry_month, pad: two }');
    const message = loadError({ 'payconex.yaml': broken });
    expect(message).toMatch(/payconex\.yaml:\d+:\d+: at request\.fields\.card_expiration\.concat\[0\]\.pad: must be integer/);
  });

  test('when a source is not a request value, then the error says where', () => {
    const message = loadError({ 'testgw.yaml': minimalMapping({ request: { encoding: 'form', fields: { ref: { from: 'card_number' } } } }) });
    expect(message).toMatch(/testgw\.yaml:\d+:\d+: at request\.fields\.ref\.from: /);
  });

  test('when the YAML is broken, then the error gives the line', () => {
    const message = loadError({ 'payconex.yaml': 'name: payconex\nrequest: [unclosed\n' });
    expect(message).toMatch(/payconex\.yaml:\d+:\d+: not valid YAML/);
  });

  test('when a key is repeated, then the file is refused', () => {
    const message = loadError({ 'testgw.yaml': 'name: testgw\nname: testgw\n' });
    expect(message).toMatch(/testgw\.yaml:2:\d+: not valid YAML: DUPLICATE_KEY/);
  });

  test('when a JSON mapping is broken, then the error names the JSON file', () => {
    const document = minimalMapping();
    (document.response as Record<string, unknown>).encoding = 'xml';
    const message = loadError({ 'testgw.json': JSON.stringify(document, null, 2) });
    expect(message).toMatch(/testgw\.json:\d+:\d+: at response\.encoding: must be one of "json", "form"/);
  });

  test('when the name differs from the file name, then the file is refused', () => {
    expect(loadError({ 'other.yaml': minimalMapping() })).toMatch(/other\.yaml:1:\d+: at name: must be "other"/);
  });

  test('when a field takes card data but is not declared sensitive, then the file is refused', () => {
    const broken = payconexMappingText().replace('sensitive: [api_accesskey, card_number,', 'sensitive: [api_accesskey,');
    expect(loadError({ 'payconex.yaml': broken })).toMatch(
      /payconex\.yaml:\d+:\d+: at request\.fields\.card_number: takes cardnumber, which is sensitive: list "card_number" in request\.sensitive/,
    );
  });

  test('when sensitive names a field that does not exist, then the file is refused', () => {
    const document = minimalMapping();
    (document.request as Record<string, unknown>).sensitive = ['card_nmuber'];
    expect(loadError({ 'testgw.yaml': document })).toMatch(/at request\.sensitive\.0: "card_nmuber" is not a field/);
  });

  test('when a parameter may override a credential, then the file is refused', () => {
    const broken = payconexMappingText().replace('    allow:\n', '    override: [api_accesskey]\n    allow:\n');
    expect(loadError({ 'payconex.yaml': broken })).toMatch(/at request\.parameters\.override\.0: "api_accesskey" carries card, bank or credential data/);
  });

  test('when a field reads an environment variable that is not set, then start-up is refused', () => {
    const document = minimalMapping({
      request: { encoding: 'form', fields: { login: { from: 'env.TESTGW_LOGIN' } }, sensitive: ['login'] },
    });
    expect(loadError({ 'testgw.yaml': document })).toMatch(/at request\.fields\.login\.from: environment variable TESTGW_LOGIN \(or TESTGW_LOGIN_FILE\) is not set/);
  });

  describe('a mapping file cannot hold a gateway secret', () => {
    const withKey = (rule: unknown, headers?: Record<string, unknown>) =>
      minimalMapping({
        request: { encoding: 'form', ...(headers ? { headers } : {}), fields: { ref: { from: 'transaction_id' }, api_key: rule }, sensitive: ['api_key'] },
      });

    test('when a sensitive field is a constant, then the file is refused, naming the file, line and path', () => {
      const message = loadError({ 'testgw.yaml': withKey({ const: 'sk_live_0123456789abcdef' }) });
      expect(message).toMatch(/\/testgw\.yaml:\d+:\d+: at request\.fields\.api_key\.const: "api_key" is sensitive and cannot be a constant/);
      expect(message).not.toContain('sk_live_0123456789abcdef');
    });

    test('when one rule of a sensitive field\'s list is a constant, then the file is refused at that rule', () => {
      const rules = [{ from: 'env.TESTGW_KEY', when: { method: 'charge' } }, { const: 'sk_live_0123456789abcdef', when: { method: 'tokenize' } }];
      expect(loadError({ 'testgw.yaml': withKey(rules) })).toMatch(/at request\.fields\.api_key\.1\.const: "api_key" is sensitive and cannot be a constant/);
    });

    test('when a sensitive field has a default or a value map, then the file is refused', () => {
      expect(loadError({ 'testgw.yaml': withKey({ from: 'parameters.key', default: 'sk_live_0123456789abcdef' }) })).toMatch(
        /at request\.fields\.api_key\.default: "api_key" is sensitive and cannot have a default/,
      );
      expect(loadError({ 'testgw.yaml': withKey({ from: 'method', map: { charge: 'sk_live_0123456789abcdef' } }) })).toMatch(
        /at request\.fields\.api_key\.map: "api_key" is sensitive and cannot have a value map/,
      );
    });

    test('when a sensitive field is a concat of constants, or hides a long constant in one, then the file is refused', () => {
      expect(loadError({ 'testgw.yaml': withKey({ concat: [{ const: 'sk_' }, { const: 'live' }] }) })).toMatch(
        /at request\.fields\.api_key\.concat: "api_key" is sensitive and cannot be made of constants only/,
      );
      expect(loadError({ 'testgw.yaml': withKey({ concat: [{ const: 'sk_live_0123' }, { from: 'cvv' }] }) })).toMatch(
        /at request\.fields\.api_key\.concat\.0\.const: "api_key" is sensitive: a constant part of its concat may have at most 4 characters/,
      );
    });

    test('when a sensitive expiry is built with a century and a separator, then the file is accepted', () => {
      const document = withKey({ concat: [{ const: '20' }, { from: 'expiry_year', last: 2 }, { const: '-' }, { from: 'expiry_month', pad: 2 }] });
      const [source] = loadMappingFolder(mappingFolder({ 'testgw.yaml': document }));
      expect(() => compileMapping(source!, () => undefined)).not.toThrow();
    });

    test('when an Authorization or Proxy-Authorization header is a constant, then the file is refused', () => {
      const sourced = { from: 'env.TESTGW_KEY' };
      expect(loadError({ 'testgw.yaml': withKey(sourced, { Authorization: 'Bearer sk_live_0123456789abcdef' }) })).toMatch(
        /\/testgw\.yaml:\d+:\d+: at request\.headers\.Authorization: a constant Authorization header would put a credential in the mapping file/,
      );
      expect(loadError({ 'testgw.yaml': withKey(sourced, { 'proxy-authorization': 'Basic dXNlcjpwYXNz' }) })).toMatch(
        /at request\.headers\.proxy-authorization: a constant proxy-authorization header/,
      );
    });

    test('when the Authorization header is built from credentials, or another header is a constant, then the file is accepted', () => {
      const document = withKey({ from: 'env.TESTGW_KEY' }, { Authorization: { basic: ['auth.username', 'env.TESTGW_KEY'] }, 'X-Api-Version': '2' });
      const [source] = loadMappingFolder(mappingFolder({ 'testgw.yaml': document }));
      expect(() => compileMapping(source!, (variable) => ({ TESTGW_KEY: 'k' })[variable])).not.toThrow();
    });
  });

  test('when two files carry the same name, then the folder is refused', () => {
    const message = loadError({ 'testgw.yaml': minimalMapping(), 'testgw.json': JSON.stringify(minimalMapping()) });
    expect(message).toMatch(/name "testgw" is also used by/);
  });

  test('when the folder has no mapping files, then start-up is refused', () => {
    expect(loadError({ 'README.txt': 'nothing here' })).toMatch(/No mapping files/);
  });

  test('when a mapping file is read alone, then its locate() finds the line of a path', () => {
    const folder = mappingFolder({ 'payconex.yaml': payconexMappingText() });
    const source = loadMappingFile(path.join(folder, 'payconex.yaml'));
    const line = Number(source.locate(['request', 'fields', 'custom_id']).split(':')[1]);
    const text = fs.readFileSync(path.join(folder, 'payconex.yaml'), 'utf8').split('\n');
    expect(text[line - 1]).toContain('custom_id: { from: transaction_id }');
  });
});

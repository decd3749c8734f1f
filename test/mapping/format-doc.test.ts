import fs from 'node:fs';
import path from 'node:path';
import { GatewayHttpError, Unauthorized } from '../../src/errors';
import { compileAnswerReader } from '../../src/mapping/gateway-answer';
import mappingSchema from '../../src/mapping/mapping.schema.json';
import { REPO_ROOT } from '../helpers/service';

/** docs/mapping-format.md is the reference of the mapping format: it must say what the schema and the code do. */
const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'mapping-format.md'), 'utf8');

function schemaKeys(node: unknown, keys = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((item) => schemaKeys(item, keys));
  else if (node !== null && typeof node === 'object') {
    const properties = (node as { properties?: Record<string, unknown> }).properties;
    if (properties) Object.keys(properties).forEach((key) => keys.add(key));
    Object.values(node).forEach((value) => schemaKeys(value, keys));
  }
  return keys;
}

test('when the schema accepts a key, then the format document shows it', () => {
  const documented = (key: string) => new RegExp(`\`${key}\`|\\b${key}:|[{,] ?${key}\\b`).test(doc);
  expect([...schemaKeys(mappingSchema)].filter((key) => !documented(key))).toEqual([]);
});

test('when the document shows headers, then it shows the basic form and the refusal of a constant Authorization', () => {
  expect(doc).toContain('Authorization: { basic: [auth.username, auth.password] }');
  expect(doc).toMatch(/An `Authorization` or `Proxy-Authorization` header cannot be a constant/);
});

test('when the document shows joined ids, then it shows join and its separator', () => {
  expect(doc).toContain("{ join: [customerProfileId, 'customerPaymentProfileIdList[0]'], separator: '/' }");
  expect(doc).toMatch(/`separator` defaults to `\/`/);
});

test('when the gateway answers 401 or 403, then the answer is UNAUTHORIZED, as the document says; other statuses are GATEWAY_HTTP_ERROR', () => {
  expect(doc).toMatch(/HTTP 401 or 403 from the gateway[^]*`UNAUTHORIZED`/);
  expect(doc).toMatch(/Any other status outside 2xx is `GATEWAY_HTTP_ERROR`/);
  const read = compileAnswerReader({ encoding: 'json', success: { path: 'ok', equals: true }, id: 'id', error_code: 'code', error_message: 'message' });
  for (const status of [401, 403]) expect(() => read('charge', { status, body: '{"ok":true,"id":"1"}' }, [])).toThrow(Unauthorized);
  for (const status of [302, 404, 500]) expect(() => read('charge', { status, body: '{"ok":true,"id":"1"}' }, [])).toThrow(GatewayHttpError);
});

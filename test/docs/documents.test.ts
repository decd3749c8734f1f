import fs from 'node:fs';
import path from 'node:path';
import { configSchema } from '../../src/config/settings';
import { REQUEST_LIMITS } from '../../src/contract/request-schema';
import * as errors from '../../src/errors';
import { AUTH_FAILURES_PER_ACCOUNT, AUTH_FAILURES_PER_ADDRESS, AUTH_FAILURE_WINDOW_SECONDS } from '../../src/http/auth-throttle';
import { REPO_ROOT } from '../helpers/service';

/** The documents promise what the code does: these checks fail when one changes without the other. */
const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const security = fs.readFileSync(path.join(REPO_ROOT, 'SECURITY.md'), 'utf8');

test('when the README lists configuration, then every variable the service reads is there', () => {
  for (const variable of Object.keys(configSchema.properties)) expect(readme).toContain(`| \`${variable}\``);
  expect(readme).toContain('`GATEWAY_URL_<NAME>`');
});

test('when the README lists error codes, then every code the service can answer is there', () => {
  // Abstract classes (PaymentFailure) have no code of their own and drop out.
  type ErrorType = new (message: string) => errors.BridgeError;
  const codes = (Object.values(errors) as unknown[])
    .filter((value): value is ErrorType => typeof value === 'function' && value.prototype instanceof errors.BridgeError)
    .map((type) => new type('probe').code)
    .filter((code): code is string => code !== undefined);
  expect(codes.length).toBeGreaterThan(20);
  for (const code of codes) expect(readme).toContain(`| \`${code}\` |`);
});

test('when SECURITY.md states limits, then they are the limits in the code', () => {
  const minutes = AUTH_FAILURE_WINDOW_SECONDS / 60;
  expect(security).toContain(`${AUTH_FAILURES_PER_ACCOUNT} failed authentications per account or ${AUTH_FAILURES_PER_ADDRESS} per address in ${minutes} minutes`);
  expect(security).toContain(`${REQUEST_LIMITS.maxDepth} levels of nesting, ${REQUEST_LIMITS.maxKeys} keys`);
  expect(security).toContain(`${configSchema.properties.BODY_LIMIT_BYTES.default / 1024} KB body limit`);
  expect(security).toContain(`${REQUEST_LIMITS.parameters} parameters`);
  expect(readme).toContain(`${AUTH_FAILURES_PER_ACCOUNT} for one account or ${AUTH_FAILURES_PER_ADDRESS} in`);
});

test('when SECURITY.md names source files, then they exist', () => {
  const files = [...security.matchAll(/`((?:src|test)\/[\w./-]+\.ts)`/g)].map((match) => match[1]!);
  expect(files.length).toBeGreaterThan(5);
  for (const file of files) expect(fs.existsSync(path.join(REPO_ROOT, file))).toBe(true);
});

test("when the README's project layout is read, then it names every folder of src/ and only paths that exist", () => {
  const section = readme.slice(readme.indexOf('## Project layout'));
  const current = /```\n([\s\S]*?)```/.exec(section)![1]!;
  const named = [...current.matchAll(/^(src\/[\w./-]+|mappings\/|scripts\/|docker\/|docs\/|test\/)/gm)].map((match) => match[1]!);
  for (const entry of named) expect({ entry, exists: fs.existsSync(path.join(REPO_ROOT, entry)) }).toEqual({ entry, exists: true });
  const folders = fs.readdirSync(path.join(REPO_ROOT, 'src'), { withFileTypes: true }).filter((entry) => entry.isDirectory());
  for (const folder of folders) expect(named).toContain(`src/${folder.name}/`);
});

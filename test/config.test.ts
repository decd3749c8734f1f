import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/settings';
import { ConfigError } from '../src/errors';

describe('configuration', () => {
  test('when nothing is set, then the embedded defaults apply', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      logLevel: 'info',
      defaultConnector: 'payconex',
      gatewayEnv: 'sandbox',
      gatewayTimeoutMs: 40000,
      retentionDays: 30,
      gatewayUrls: {},
    });
    expect(config.mappingsDir).toMatch(/mappings$/);
  });

  test('when values are given, then they are parsed and typed', () => {
    const config = loadConfig({
      PORT: '9090',
      GATEWAY_ENV: 'production',
      GATEWAY_TIMEOUT_MS: '5000',
      GATEWAY_URL_PAYCONEX: 'http://127.0.0.1:9000/api/qsapi/3.8',
      UNRELATED: 'ignored',
    });
    expect(config).toMatchObject({
      port: 9090,
      gatewayEnv: 'production',
      gatewayTimeoutMs: 5000,
      gatewayUrls: { GATEWAY_URL_PAYCONEX: 'http://127.0.0.1:9000/api/qsapi/3.8' },
    });
  });

  test.each([
    [{ PORT: 'eighty' }, 'PORT: must be integer'],
    [{ PORT: '70000' }, 'PORT: must be <= 65535'],
    [{ GATEWAY_ENV: 'live' }, 'GATEWAY_ENV: must be equal to one of the allowed values'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL: must be equal to one of the allowed values'],
    [{ GATEWAY_TIMEOUT_MS: '10' }, 'GATEWAY_TIMEOUT_MS: must be >= 100'],
    [{ GATEWAY_URL_PAYCONEX: 'ftp://example' }, 'GATEWAY_URL_PAYCONEX: must match pattern'],
    [{ DEFAULT_CONNECTOR: 'Pay Conex' }, 'DEFAULT_CONNECTOR: must match pattern'],
  ])('when %o is set, then start-up stops naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('secret settings from files', () => {
  test('when ADMIN_TOKEN_FILE and DATABASE_URL_FILE name files, then their contents are the settings', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    fs.writeFileSync(`${dir}/token`, 'token-from-a-file-0123456789\n');
    fs.writeFileSync(`${dir}/db`, 'postgres://u:p@127.0.0.1/db');
    const config = loadConfig({ ADMIN_TOKEN_FILE: `${dir}/token`, DATABASE_URL_FILE: `${dir}/db` });
    expect(config.adminToken).toBe('token-from-a-file-0123456789');
    expect(config.databaseUrl).toBe('postgres://u:p@127.0.0.1/db');
  });

  test('when a *_FILE cannot be read, then start-up stops naming the variable only', () => {
    expect(() => loadConfig({ ADMIN_TOKEN_FILE: '/nonexistent/token' })).toThrow(
      new ConfigError('Invalid configuration: ADMIN_TOKEN_FILE names a file that cannot be read'),
    );
  });
});

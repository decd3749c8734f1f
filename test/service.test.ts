import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { ConfigError, MappingError } from '../src/errors';
import { mappingFolder, payconexMappingText } from './helpers/mapping-files';
import { REPO_ROOT, startService, temporaryDataDir } from './helpers/service';
import { basicAuth, cardCharge } from './helpers/test-data';

const MAIN = path.join(REPO_ROOT, 'dist', 'main.js');

describe('start-up', () => {
  test('when a mapping file is broken, then start() fails naming the file and the path', async () => {
    const folder = mappingFolder({ 'payconex.yaml': payconexMappingText().replace('format: decimal', 'format: dollars') });
    const started = startService({ MAPPINGS_DIR: folder });
    await expect(started).rejects.toThrow(MappingError);
    await expect(started).rejects.toThrow(/payconex\.yaml:\d+:\d+: at request\.fields\.transaction_amount\.format: must be one of/);
  });

  test('when GATEWAY_URL_ names no connector, then start() fails', async () => {
    await expect(startService({ GATEWAY_URL_PAYCONNEX: 'http://127.0.0.1:9/x' })).rejects.toThrow(
      new ConfigError('Invalid configuration: GATEWAY_URL_PAYCONNEX matches no connector (loaded: authorize-net, cardconnect, nmi, payconex)'),
    );
  });

  test('when DEFAULT_CONNECTOR is not loaded, then start() fails', async () => {
    await expect(startService({ DEFAULT_CONNECTOR: 'stripe' })).rejects.toThrow(/DEFAULT_CONNECTOR "stripe" is not a loaded connector/);
  });

  test('when GATEWAY_ENV is production, then the mapping endpoint is used and no sandbox runs', async () => {
    const service = await startService({ GATEWAY_ENV: 'production' });
    try {
      expect(service.sandboxUrl).toBeUndefined();
      const loaded = service.logs.entries().find((entry) => entry.message === 'connector loaded' && entry.connector === 'payconex');
      expect(loaded).toMatchObject({ connector: 'payconex', endpoint: 'https://secure.payconex.net/api/qsapi/3.8', endpoint_from: 'mapping' });
      expect(service.logs.text).not.toContain('SANDBOX MODE');
    } finally {
      await service.stop();
    }
  });

  test('when GATEWAY_ENV is sandbox, then the log says so loudly', async () => {
    const service = await startService();
    try {
      const warning = service.logs.entries().find((entry) => entry.level === 'warn');
      expect(warning?.message).toMatch(/^SANDBOX MODE: no real payments/);
      expect(service.sandboxUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await service.stop();
    }
  });
});

/** The built entry point, as `npm start` runs it. `npm test` builds dist/ before jest. */
describe('the service process', () => {
  beforeAll(() => {
    if (!fs.existsSync(MAIN)) throw new Error('dist/main.js is missing: run `npm run build` (npm test does)');
  });

  function run(env: Record<string, string>) {
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', DATA_DIR: temporaryDataDir(), ...env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, exited, output: () => ({ stdout, stderr }) };
  }

  test('when a mapping file is broken, then the process exits non-zero with the file and path', async () => {
    const folder = mappingFolder({ 'payconex.yaml': payconexMappingText().replace('encoding: form', 'encoding: xml') });
    const { exited, output } = run({ MAPPINGS_DIR: folder });
    expect(await exited).toBe(1);
    expect(output().stderr).toMatch(/^Cannot start: .*payconex\.yaml:\d+:\d+: at request\.encoding: must be one of "form", "json"/);
  });

  test('when started on its defaults, then it serves a sandbox charge and stops cleanly on SIGTERM', async () => {
    const { child, exited, output } = run({});
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setInterval(() => {
        const match = /"message":"listening","port":(\d+)/.exec(output().stdout);
        if (match) {
          clearInterval(timer);
          resolve(Number(match[1]));
        }
      }, 50);
      child.on('exit', () => {
        clearInterval(timer);
        reject(new Error(`exited early: ${output().stderr}`));
      });
    });
    const response = await request(`http://127.0.0.1:${port}`).post('/').set('Authorization', basicAuth()).send(cardCharge());
    expect(response.body).toEqual({ charge_id: expect.stringMatching(/^\d{12}$/), error_code: null, error_message: null });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('outbound safety at start-up', () => {
  test('when a production endpoint is plain http on another host, then start-up is refused', async () => {
    await expect(startService({ GATEWAY_ENV: 'production', GATEWAY_URL_PAYCONEX: 'http://gateway.example/api/qsapi/3.8' })).rejects.toThrow(
      /payconex .* would send card data over plain HTTP to gateway\.example with GATEWAY_ENV=production; use https:\/\//,
    );
  });

  test.each(['http://127.attacker.example/api/qsapi/3.8', 'http://127.0.0.1.nip.io/api/qsapi/3.8', 'http://localhost.example/api'])(
    'when a production endpoint is plain http on a host name that only looks like loopback (%s), then start-up is refused',
    async (endpoint) => {
      await expect(startService({ GATEWAY_ENV: 'production', GATEWAY_URL_PAYCONEX: endpoint })).rejects.toThrow(/would send card data over plain HTTP/);
    },
  );

  test('when a certification endpoint is plain http on loopback, then it is allowed (a local test gateway)', async () => {
    const service = await startService({ GATEWAY_ENV: 'certification', GATEWAY_URL_PAYCONEX: 'http://127.0.0.1:9/api/qsapi/3.8' });
    await service.stop();
  });
});

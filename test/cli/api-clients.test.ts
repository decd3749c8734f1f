import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { parseApiClientsFile } from '../../src/sessions/api-clients-file';
import { eventually, expectNoSecretsIn, secretForms, temporaryFolder } from '../helpers/api-clients';
import { startSessionAuthServer } from '../helpers/session-auth-server';
import { REPO_ROOT } from '../helpers/service';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'api-clients.js');

/** The CLI as `npm run api-clients` runs it, with only the settings given here. */
function apiClients(env: Record<string, string>, ...args: string[]) {
  return run(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
}

interface Printed {
  client_id: string;
  client_secret: string;
  webhook_secret: string;
}

async function add(env: Record<string, string>, ...args: string[]): Promise<Printed> {
  const { stdout } = await apiClients(env, 'add', ...args);
  return JSON.parse(stdout) as Printed;
}

function storedFile(file: string) {
  const reading = parseApiClientsFile(fs.readFileSync(file, 'utf8'));
  if (reading.state !== 'valid') throw new Error(`the CLI wrote an invalid file: ${JSON.stringify(reading)}`);
  return reading.document;
}

describe('npm run api-clients', () => {
  test('when a client is added, then its secrets are printed once as JSON, and the file (mode 0600, in DATA_DIR) keeps only a hash of the client secret', async () => {
    const dataDir = temporaryFolder('data-');
    const { stdout, stderr } = await apiClients({ DATA_DIR: dataDir }, 'add', 'crm', '--scope', 'sessions:write');
    expect(stderr).toBe('');
    expect(stdout.endsWith('\n')).toBe(true);
    const printed = JSON.parse(stdout) as Printed;
    expect(Object.keys(printed)).toEqual(['client_id', 'client_secret', 'webhook_secret']);
    expect(printed.client_id).toBe('crm');
    // 256 random bits each: 43 base64url characters.
    expect(printed.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(printed.webhook_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(printed.client_secret).not.toBe(printed.webhook_secret);

    const file = path.join(dataDir, 'api-clients.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain(printed.client_secret);
    expect(storedFile(file).clients).toEqual([
      {
        client_id: 'crm',
        secret_hash: expect.stringMatching(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/),
        scopes: ['sessions:write'],
        webhook_secret: printed.webhook_secret,
        progress_events: false,
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      },
    ]);
    // No temporary file is left beside it.
    expect(fs.readdirSync(dataDir)).toEqual(['api-clients.json']);
  });

  test('when a client is added with several scopes, a webhook URL and progress events, then the file says so; list shows no secret or hash', async () => {
    const env = { DATA_DIR: temporaryFolder('data-') };
    const crm = await add(env, 'crm', '--scope', 'sessions:write', '--scope', 'sessions:read', '--webhook-url', 'https://crm.example.com/paybridge', '--progress-events');
    const reader = await add(env, 'reader', '--scope', 'sessions:read', '--webhook-url', 'http://127.0.0.1:9000/hooks');
    const { stdout } = await apiClients(env, 'list');
    expect(JSON.parse(stdout)).toEqual([
      { client_id: 'crm', scopes: ['sessions:write', 'sessions:read'], webhook_url: 'https://crm.example.com/paybridge', progress_events: true, created_at: expect.any(String) },
      { client_id: 'reader', scopes: ['sessions:read'], webhook_url: 'http://127.0.0.1:9000/hooks', progress_events: false, created_at: expect.any(String) },
    ]);
    const stored = storedFile(path.join(env.DATA_DIR, 'api-clients.json'));
    expectNoSecretsIn(stdout, secretForms(stored.clients, [crm.client_secret, crm.webhook_secret, reader.client_secret, reader.webhook_secret]));
  });

  test('when API_CLIENTS_FILE is set, then that file is the one written', async () => {
    const file = path.join(temporaryFolder('elsewhere-'), 'clients.json');
    await add({ DATA_DIR: temporaryFolder('data-'), API_CLIENTS_FILE: file }, 'crm', '--scope', 'sessions:read');
    expect(storedFile(file).clients.map((client) => client.client_id)).toEqual(['crm']);
  });

  test('when a client is removed, then it is gone from the file and the others stay', async () => {
    const env = { DATA_DIR: temporaryFolder('data-') };
    await add(env, 'crm', '--scope', 'sessions:write');
    await add(env, 'reader', '--scope', 'sessions:read');
    const { stdout } = await apiClients(env, 'remove', 'crm');
    expect(stdout).toBe('removed crm\n');
    const file = path.join(env.DATA_DIR, 'api-clients.json');
    expect(storedFile(file).clients.map((client) => client.client_id)).toEqual(['reader']);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  test.each<[string, string[], string]>([
    ['an id already there', ['add', 'crm', '--scope', 'sessions:read'], 'api-clients: a client named crm already exists; remove it first to replace it'],
    ['an unknown scope', ['add', 'other', '--scope', 'sessions:admin'], "error: option '--scope <scope>' argument 'sessions:admin' is invalid. It must be one of sessions:write, sessions:read."],
    ['no scope', ['add', 'other'], "error: required option '--scope <scope>' not specified"],
    ['an id with a colon', ['add', 'crm:2', '--scope', 'sessions:read'], 'api-clients: client_id may have letters, digits, ".", "_" and "-" (up to 64), starting with a letter or digit'],
    ['a plain-HTTP webhook off loopback', ['add', 'other', '--scope', 'sessions:read', '--webhook-url', 'http://crm.example.com/hook'], 'api-clients: --webhook-url must be https:// (http:// only on loopback)'],
    ['a webhook URL with credentials', ['add', 'other', '--scope', 'sessions:read', '--webhook-url', 'https://user:pass@crm.example.com/hook'], 'api-clients: --webhook-url must not hold credentials'],
    ['a client that is not there', ['remove', 'nobody'], 'api-clients: no client named nobody'],
    ["the agent console's reserved id", ['add', 'console', '--scope', 'sessions:write'], "api-clients: console is reserved: the agent console's own sessions belong to it"],
  ])('when asked with %s, then it exits 1 saying why and the file is unchanged', async (_case, args, message) => {
    const env = { DATA_DIR: temporaryFolder('data-') };
    await add(env, 'crm', '--scope', 'sessions:write');
    const file = path.join(env.DATA_DIR, 'api-clients.json');
    const before = fs.readFileSync(file, 'utf8');
    await expect(apiClients(env, ...args)).rejects.toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining(message) });
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  test('when the file is invalid, then nothing is changed and the message names the file and the JSON path', async () => {
    const env = { DATA_DIR: temporaryFolder('data-') };
    const file = path.join(env.DATA_DIR, 'api-clients.json');
    fs.writeFileSync(file, JSON.stringify({ clients: [{ client_id: 'crm', scopes: ['sessions:write'], created_at: '2026-11-02T10:00:00Z' }] }));
    await expect(apiClients(env, 'add', 'other', '--scope', 'sessions:read')).rejects.toMatchObject({
      code: 1,
      stderr: `api-clients: API_CLIENTS_FILE ${file}: clients[0]: missing required key "secret_hash"; fix it first\n`,
    });
    await expect(apiClients(env, 'list')).rejects.toMatchObject({ code: 1 });
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).clients).toHaveLength(1);
  });

  test('when there is no file yet, then list prints no clients', async () => {
    const { stdout } = await apiClients({ DATA_DIR: temporaryFolder('data-') }, 'list');
    expect(JSON.parse(stdout)).toEqual([]);
  });
});

describe('the running service picks up what the CLI changes', () => {
  test('when the CLI adds a client, then it gets a token that works; when the CLI removes it, then that token is refused', async () => {
    const server = await startSessionAuthServer({ clients: [] });
    const env = { DATA_DIR: temporaryFolder('data-'), API_CLIENTS_FILE: server.file };
    try {
      const crm = await add(env, 'crm', '--scope', 'sessions:write');
      await eventually(() => server.registry.get('crm') !== undefined, 'the registry to see the new client');
      const issued = await request(server.url).post('/oauth/token').type('form').send({ grant_type: 'client_credentials', client_id: 'crm', client_secret: crm.client_secret });
      expect(issued.status).toBe(200);
      const token = issued.body.access_token as string;
      expect((await request(server.url).post('/v1/sessions').set('Authorization', `Bearer ${token}`)).status).toBe(201);

      await apiClients(env, 'remove', 'crm');
      await eventually(() => server.registry.get('crm') === undefined, 'the registry to drop the client');
      const refused = await request(server.url).post('/v1/sessions').set('Authorization', `Bearer ${token}`);
      expect(refused.status).toBe(401);
      expect(refused.body.error.message).toBe("The access token's client is no longer registered");

      // Added again, it has a new secret: the old one and the old token stay refused.
      const again = await add(env, 'crm', '--scope', 'sessions:write');
      await eventually(() => server.registry.get('crm') !== undefined, 'the registry to see the client again');
      expect((await request(server.url).post('/v1/sessions').set('Authorization', `Bearer ${token}`)).status).toBe(401);
      const oldSecret = await request(server.url).post('/oauth/token').type('form').send({ grant_type: 'client_credentials', client_id: 'crm', client_secret: crm.client_secret });
      expect(oldSecret.status).toBe(401);
      expectNoSecretsIn(server.logs.text, secretForms([], [crm.client_secret, crm.webhook_secret, again.client_secret, again.webhook_secret, token]));
    } finally {
      await server.stop();
    }
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, TooManyCredentialChecks } from '../../src/errors';
import { SecretChecks, type SecretHash } from '../../src/security/secret-hash';
import { ApiClientRegistry } from '../../src/sessions/api-client-registry';
import type { ApiClientEntry } from '../../src/sessions/api-clients-file';
import {
  capturingLogger,
  CRM_SECRET,
  eventually,
  expectNoSecretsIn,
  READER_SECRET,
  secretForms,
  standardClients,
  temporaryFolder,
  WEBHOOK_SECRET,
  writeClients,
} from '../helpers/api-clients';

const clients = standardClients();
const registries: ApiClientRegistry[] = [];
afterEach(async () => {
  await Promise.all(registries.splice(0).map((registry) => registry.close()));
});

function open(file: string, options: Partial<ConstructorParameters<typeof ApiClientRegistry>[0]> = {}) {
  const { logger, logs } = capturingLogger();
  const registry = new ApiClientRegistry({ file, logger, ...options });
  registries.push(registry);
  return { registry, logs };
}

function fileWith(entries: ApiClientEntry[] = clients): string {
  const file = path.join(temporaryFolder(), 'api-clients.json');
  writeClients(file, entries);
  return file;
}

describe('reading API_CLIENTS_FILE at start', () => {
  test('when the file is valid, then its clients are known, with their scopes, webhook and progress setting', () => {
    const { registry } = open(fileWith());
    expect(registry.list().map((client) => client.clientId)).toEqual(['crm', 'reader']);
    expect(registry.get('crm')).toMatchObject({
      clientId: 'crm',
      scopes: ['sessions:write'],
      webhookUrl: 'https://crm.example.com/paybridge',
      progressEvents: true,
      createdAt: '2026-11-02T10:00:00.000Z',
    });
    expect(registry.get('crm')?.webhookSecret?.reveal()).toBe(WEBHOOK_SECRET);
    expect(registry.get('reader')).toMatchObject({ progressEvents: false, webhookUrl: undefined, webhookSecret: undefined });
    expect(registry.get('nobody')).toBeUndefined();
  });

  test('when the clients are printed, then no webhook secret or hash shows', () => {
    const { registry } = open(fileWith());
    expectNoSecretsIn(JSON.stringify(registry.list()) + String(registry.get('crm')?.webhookSecret), secretForms(clients));
  });

  test('when the file does not exist, then there are no clients and the registry starts', () => {
    const { registry, logs } = open(path.join(temporaryFolder(), 'absent.json'));
    expect(registry.list()).toEqual([]);
    expect(logs.entries()).toContainEqual(expect.objectContaining({ level: 'info', message: 'api clients file not found: no session API clients' }));
  });

  const invalid: Array<[string, (entries: ApiClientEntry[]) => unknown, string]> = [
    ['an unknown scope', (entries) => ({ clients: [{ ...entries[0], scopes: ['sessions:admin'] }] }), 'clients[0].scopes[0]: must be equal to one of the allowed values'],
    ['a missing secret_hash', (entries) => ({ clients: [{ ...entries[1], secret_hash: undefined }] }), 'clients[0]: missing required key "secret_hash"'],
    ['a webhook without its secret', (entries) => ({ clients: [entries[1], { ...entries[0], webhook_secret: undefined }] }), 'clients[1]: must have property webhook_secret when property webhook_url is present'],
    ['a plain-HTTP webhook off loopback', (entries) => ({ clients: [{ ...entries[0], webhook_url: 'http://crm.example.com/hook' }] }), 'clients[0].webhook_url: must be https:// (http:// only on loopback)'],
    ["the agent console's reserved id", (entries) => ({ clients: [{ ...entries[1], client_id: 'console' }] }), "clients[0].client_id: console is reserved (the agent console's own sessions)"],
    ['the same client twice', (entries) => ({ clients: [entries[0], entries[1], entries[0]] }), 'clients[2].client_id: the same as clients[0].client_id'],
    ['an scrypt cost that would take too much memory', (entries) => ({ clients: [{ ...entries[0], secret_hash: entries[0]!.secret_hash.replace('$16384$8$', '$1048576$8$') }] }), 'clients[0].secret_hash: scrypt N and r need more than 64 MiB'],
    ['an scrypt N that is not a power of two', (entries) => ({ clients: [{ ...entries[0], secret_hash: entries[0]!.secret_hash.replace('$16384$', '$16000$') }] }), 'clients[0].secret_hash: scrypt N must be a power of two'],
    ['a key the format does not have', (entries) => ({ clients: [{ ...entries[0], client_secret: CRM_SECRET }] }), 'clients[0]: unknown key "client_secret"'],
  ];
  test.each(invalid)('when the file has %s, then start-up stops naming the file and the JSON path, and no secret', (_name, build, problem) => {
    const file = path.join(temporaryFolder(), 'api-clients.json');
    fs.writeFileSync(file, JSON.stringify(build(clients)));
    let error: unknown;
    try {
      open(file);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(`API_CLIENTS_FILE ${file}: `);
    expect(message).toContain(problem);
    expectNoSecretsIn(message, secretForms(clients));
  });

  test('when the file is not JSON, then the message says so without quoting the text (which may hold a secret)', () => {
    const file = path.join(temporaryFolder(), 'api-clients.json');
    fs.writeFileSync(file, `{"clients": [{"webhook_secret": "${WEBHOOK_SECRET}" oops`);
    expect(() => open(file)).toThrow(`Invalid configuration: API_CLIENTS_FILE ${file}: is not valid JSON`);
  });
});

describe('checking a client secret', () => {
  test('when the secret is right, then the client; when wrong, or the client unknown, then nothing', async () => {
    const { registry } = open(fileWith());
    await expect(registry.authenticate('crm', CRM_SECRET)).resolves.toMatchObject({ clientId: 'crm' });
    await expect(registry.authenticate('reader', READER_SECRET)).resolves.toMatchObject({ clientId: 'reader' });
    await expect(registry.authenticate('crm', READER_SECRET)).resolves.toBeUndefined();
    await expect(registry.authenticate('crm', `${CRM_SECRET}x`)).resolves.toBeUndefined();
    await expect(registry.authenticate('crm', '')).resolves.toBeUndefined();
    await expect(registry.authenticate('nobody', CRM_SECRET)).resolves.toBeUndefined();
  });

  test('when more checks come at once than run and wait, then the excess is refused at once and the rest are answered', async () => {
    const checks = new SecretChecks(2, 3);
    const { registry } = open(fileWith(), { secretChecks: checks });
    const settled: string[] = [];
    // Unknown ids too: they are checked against a dummy hash, so they take a slot like known ones.
    const attempts = ['crm', 'nobody', 'reader', 'someone', 'crm', 'nobody', 'reader', 'crm', 'x', 'y'].map((id, index) =>
      registry.authenticate(id, index === 0 ? CRM_SECRET : 'wrong-secret').then(
        (client) => settled.push(client ? `accepted ${id}` : `refused ${id}`),
        (error: unknown) => settled.push(error instanceof TooManyCredentialChecks ? 'busy' : `error ${String(error)}`),
      ),
    );
    expect(checks.load).toEqual({ running: 2, waiting: 3 });
    await Promise.all(attempts);
    // The five beyond 2 running and 3 waiting were refused before any scrypt check ended.
    expect(settled.slice(0, 5)).toEqual(['busy', 'busy', 'busy', 'busy', 'busy']);
    expect(settled.slice(5).sort()).toEqual(['accepted crm', 'refused crm', 'refused nobody', 'refused reader', 'refused someone']);
    expect(checks.load).toEqual({ running: 0, waiting: 0 });
  });

  test('when the client is removed while its secret is being checked, then it is not accepted', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    class GatedChecks extends SecretChecks {
      override async matches(secret: string, stored: SecretHash): Promise<boolean> {
        const matches = await super.matches(secret, stored);
        await gate;
        return matches;
      }
    }
    const file = fileWith();
    const { registry } = open(file, { secretChecks: new GatedChecks(), watch: false });
    const attempt = registry.authenticate('crm', CRM_SECRET);
    writeClients(file, [clients[1]!]);
    await registry.reload();
    expect(registry.get('crm')).toBeUndefined();
    release();
    await expect(attempt).resolves.toBeUndefined();
  });
});

describe('re-reading API_CLIENTS_FILE while running', () => {
  test.each([
    ['fs.watch on its folder', { watch: true, pollIntervalMs: 60_000 }],
    ['the periodic stat alone', { watch: false, pollIntervalMs: 50 }],
  ])('when the file is replaced, then %s picks up the new clients', async (_how, options) => {
    const file = fileWith([clients[1]!]);
    const { registry, logs } = open(file, options);
    expect(registry.get('crm')).toBeUndefined();
    writeClients(file, clients);
    await eventually(() => registry.get('crm') !== undefined, 'crm to be added');
    await expect(registry.authenticate('crm', CRM_SECRET)).resolves.toMatchObject({ clientId: 'crm' });
    writeClients(file, [clients[0]!]);
    await eventually(() => registry.get('reader') === undefined, 'reader to be removed');
    expect(logs.entries().filter((entry) => entry.message === 'api clients loaded').map((entry) => entry.clients)).toEqual([1, 2, 1]);
  });

  test('when the file becomes invalid, then the last good clients stay and the log says why by path, without a secret', async () => {
    const file = fileWith();
    const { registry, logs } = open(file, { pollIntervalMs: 50 });
    const broken = { clients: [{ ...clients[0], scopes: ['everything'] }, clients[1]] };
    fs.writeFileSync(file, JSON.stringify(broken));
    await eventually(() => logs.entries().some((entry) => entry.message === 'api clients file invalid; keeping the last good clients'), 'the warning');
    expect(registry.list().map((client) => client.clientId)).toEqual(['crm', 'reader']);
    await expect(registry.authenticate('crm', CRM_SECRET)).resolves.toMatchObject({ clientId: 'crm' });
    const warning = logs.entries().find((entry) => entry.message === 'api clients file invalid; keeping the last good clients');
    expect(warning).toMatchObject({ level: 'warn', file, problems: ['clients[0].scopes[0]: must be equal to one of the allowed values'] });

    // Fixed again: read again.
    writeClients(file, [clients[1]!]);
    await eventually(() => registry.get('crm') === undefined, 'the fixed file');
    fs.writeFileSync(file, `{"clients": [{"webhook_secret": "${WEBHOOK_SECRET}", `);
    await eventually(() => logs.entries().filter((entry) => entry.message === 'api clients file invalid; keeping the last good clients').length === 2, 'the second warning');
    expect(registry.get('reader')).toBeDefined();
    expectNoSecretsIn(logs.text, secretForms(clients));
  });

  test('when the file is removed, then there are no clients; when it comes back, they are read', async () => {
    const file = fileWith();
    const { registry, logs } = open(file, { pollIntervalMs: 50 });
    fs.rmSync(file);
    await eventually(() => registry.list().length === 0, 'the clients to go');
    expect(logs.entries()).toContainEqual(expect.objectContaining({ level: 'warn', message: 'api clients file removed: no session API clients', file }));
    writeClients(file, clients);
    await eventually(() => registry.list().length === 2, 'the clients to come back');
  });

  test('when the folder does not exist yet, then the file is found once it is created', async () => {
    const file = path.join(temporaryFolder(), 'later', 'api-clients.json');
    const { registry } = open(file, { pollIntervalMs: 50 });
    writeClients(file, clients);
    await eventually(() => registry.list().length === 2, 'the new file');
  });

  test('when the file is readable by other users, then a warning says so', () => {
    const file = fileWith();
    fs.chmodSync(file, 0o644);
    const { logs } = open(file);
    expect(logs.entries()).toContainEqual(expect.objectContaining({ level: 'warn', file, mode: '644' }));
  });
});

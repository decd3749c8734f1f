import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../src/errors';
import { ConsoleUsers } from '../../src/sessions/console-users';
import { parseConsoleUsersFile, writeConsoleUsersFile } from '../../src/sessions/console-users-file';
import { capturingLogger, eventually, temporaryFolder } from '../helpers/api-clients';
import { AGENT, OTHER_AGENT, consoleUserEntry } from '../helpers/console';
import { REPO_ROOT } from '../helpers/service';

/** CONSOLE_USERS_FILE: the registry the service reads (and re-reads), and `npm run console:user` that writes it. */
const entries = [consoleUserEntry(AGENT.name, AGENT.password), consoleUserEntry(OTHER_AGENT.name, OTHER_AGENT.password)];
const opened: ConsoleUsers[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((users) => users.close()));
});
function open(file: string) {
  const { logger, logs } = capturingLogger();
  const users = new ConsoleUsers({ file, logger, pollIntervalMs: 100 });
  opened.push(users);
  return { users, logs };
}
const fileWith = (users = entries) => {
  const file = path.join(temporaryFolder('console-users-'), 'console-users.json');
  writeConsoleUsersFile(file, { users });
  return file;
};

describe('the console users registry', () => {
  test('when the password is right, then the agent; wrong, unknown, empty or endless, then nobody', async () => {
    const { users } = open(fileWith());
    await expect(users.authenticate(AGENT.name, AGENT.password)).resolves.toMatchObject({ name: 'alice', registration: expect.any(String) });
    await expect(users.authenticate(AGENT.name, OTHER_AGENT.password)).resolves.toBeUndefined();
    await expect(users.authenticate('nobody', AGENT.password)).resolves.toBeUndefined();
    await expect(users.authenticate(AGENT.name, '')).resolves.toBeUndefined();
    await expect(users.authenticate(AGENT.name, 'x'.repeat(2000))).resolves.toBeUndefined();
  });

  test('when the file is missing, then nobody can sign in and the service starts', () => {
    const { users, logs } = open(path.join(temporaryFolder(), 'absent.json'));
    expect(users.size).toBe(0);
    expect(logs.entries()).toContainEqual(expect.objectContaining({ message: 'console users file not found: nobody can sign in to the console' }));
  });

  test.each([
    ['the same name twice', { users: [entries[0], entries[0]] }, 'users[1].name: the same as users[0].name'],
    ['a plain password instead of a hash', { users: [{ ...entries[0], password_hash: AGENT.password }] }, 'users[0].password_hash: must match pattern'],
    ['a name with a colon', { users: [{ ...entries[0], name: 'a:b' }] }, 'users[0].name: must match pattern'],
    ['a key the format does not have', { users: [{ ...entries[0], password: AGENT.password }] }, 'users[0]: unknown key "password"'],
  ])('when the file has %s, then start-up stops naming the file and the path, never the value', (_case, document, problem) => {
    const file = path.join(temporaryFolder('console-users-'), 'console-users.json');
    fs.writeFileSync(file, JSON.stringify(document));
    let error: unknown;
    try {
      open(file);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`CONSOLE_USERS_FILE ${file}: `);
    expect((error as Error).message).toContain(problem);
    expect((error as Error).message).not.toContain(AGENT.password);
  });

  test('when the file changes while running, then agents come and go; an invalid file keeps the last good agents and says why', async () => {
    const file = fileWith([entries[0]!]);
    const { users, logs } = open(file);
    expect(users.get('bob')).toBeUndefined();
    writeConsoleUsersFile(file, { users: entries });
    await eventually(() => users.get('bob') !== undefined, 'bob to be added');
    fs.writeFileSync(file, '{"users": [oops');
    await eventually(() => logs.entries().some((entry) => entry.message === 'console users file invalid; keeping the last good users'), 'the warning');
    expect(users.size).toBe(2);
    writeConsoleUsersFile(file, { users: [entries[1]!] });
    await eventually(() => users.get('alice') === undefined, 'alice to be removed');
    await expect(users.authenticate(OTHER_AGENT.name, OTHER_AGENT.password)).resolves.toMatchObject({ name: 'bob' });
  });
});

describe('npm run console:user', () => {
  const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'console-user.js');
  const run = (env: Record<string, string>, input: string, ...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin!.end(input);
    });

  test('when an agent is added with a password on stdin, then the file (mode 0600) keeps a password-grade scrypt hash, list shows no hash, remove takes it out', async () => {
    const env = { DATA_DIR: temporaryFolder('data-') };
    const file = path.join(env.DATA_DIR, 'console-users.json');
    expect(await run(env, `${AGENT.password}\n`, 'add', 'alice')).toEqual({ code: 0, stdout: 'added alice\n', stderr: '' });
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain(AGENT.password);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const reading = parseConsoleUsersFile(text);
    expect(reading.state).toBe('valid');
    expect(text).toMatch(/"password_hash": "scrypt\$32768\$8\$3\$/);
    const { users } = open(file);
    await expect(users.authenticate('alice', AGENT.password)).resolves.toMatchObject({ name: 'alice' });
    const listed = await run(env, '', 'list');
    expect(JSON.parse(listed.stdout)).toEqual([{ name: 'alice', created_at: expect.any(String) }]);
    expect(listed.stdout).not.toContain('scrypt');
    expect(await run(env, '', 'remove', 'alice')).toMatchObject({ code: 0, stdout: 'removed alice\n' });
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ users: [] });
  });

  test.each<[string, string[], string, string]>([
    ['a short password', ['add', 'carol'], 'short\n', 'console:user: the password must have at least 12 characters\n'],
    ['an agent already there', ['add', 'alice'], `${AGENT.password}\n`, 'console:user: an agent named alice already exists; remove it first to set a new password\n'],
    ['a name with a space', ['add', 'a b'], `${AGENT.password}\n`, 'console:user: the name may have letters, digits, ".", "_" and "-" (up to 64), starting with a letter or digit\n'],
    ['an agent not there', ['remove', 'nobody'], '', 'console:user: no agent named nobody\n'],
  ])('when asked with %s, then it exits 1 saying why and the file is unchanged', async (_case, args, input, message) => {
    const env = { DATA_DIR: temporaryFolder('data-') };
    await run(env, `${AGENT.password}\n`, 'add', 'alice');
    const before = fs.readFileSync(path.join(env.DATA_DIR, 'console-users.json'), 'utf8');
    expect(await run(env, input, ...args)).toEqual({ code: 1, stdout: '', stderr: message });
    expect(fs.readFileSync(path.join(env.DATA_DIR, 'console-users.json'), 'utf8')).toBe(before);
  });
});

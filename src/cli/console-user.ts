import { Command } from 'commander';
import { loadConfig } from '../config/settings';
import { BridgeError, StartupError } from '../errors';
import { hashSecret } from '../security/secret-hash';
import {
  CONSOLE_USER_NAME_PATTERN,
  describeConsoleUsersProblems,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  PASSWORD_SCRYPT,
  readConsoleUsersFile,
  writeConsoleUsersFile,
  type ConsoleUsersDocument,
} from '../sessions/console-users-file';

/**
 * `npm run console:user -- add alice` (the password on standard input: typed, unechoed, at a
 * terminal; the first line of a pipe otherwise), `list`, `remove alice`: manages
 * CONSOLE_USERS_FILE, which the running service re-reads when it changes. The file keeps each
 * password only as a scrypt hash; removing a user (or adding it again with a new password) ends
 * that user's signed-in consoles.
 */
const program = new Command('console:user').description('Manage the agents who may sign in to the payment console (CONSOLE_USERS_FILE).').showHelpAfterError();

program
  .command('add')
  .description(`Add an agent; the password (${MIN_PASSWORD_LENGTH} characters or more) is read from standard input`)
  .argument('<name>', 'letters, digits, ".", "_" and "-", up to 64')
  .action(async (name: string) => {
    if (!new RegExp(CONSOLE_USER_NAME_PATTERN).test(name)) throw new StartupError('the name may have letters, digits, ".", "_" and "-" (up to 64), starting with a letter or digit');
    const { file, document } = currentFile();
    if (document.users.some((user) => user.name === name)) throw new StartupError(`an agent named ${name} already exists; remove it first to set a new password`);
    const password = await readPassword();
    if (password.length < MIN_PASSWORD_LENGTH) throw new StartupError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
    if (password.length > MAX_PASSWORD_LENGTH) throw new StartupError(`the password may have at most ${MAX_PASSWORD_LENGTH} characters`);
    writeConsoleUsersFile(file, { users: [...document.users, { name, password_hash: hashSecret(password, PASSWORD_SCRYPT), created_at: new Date().toISOString() }] });
    process.stdout.write(`added ${name}\n`);
  });

program
  .command('list')
  .description('List the agents as JSON (no hash)')
  .action(() => {
    const { document } = currentFile();
    process.stdout.write(`${JSON.stringify(document.users.map(({ name, created_at }) => ({ name, created_at })), null, 2)}\n`);
  });

program
  .command('remove')
  .description("Remove an agent: the agent's signed-in consoles end as soon as the service re-reads the file")
  .argument('<name>')
  .action((name: string) => {
    const { file, document } = currentFile();
    const users = document.users.filter((user) => user.name !== name);
    if (users.length === document.users.length) throw new StartupError(`no agent named ${name}`);
    writeConsoleUsersFile(file, { users });
    process.stdout.write(`removed ${name}\n`);
  });

/** The file as it is; a missing one is empty, an invalid one is never overwritten. */
function currentFile(): { file: string; document: ConsoleUsersDocument } {
  const file = loadConfig().consoleUsersFile;
  const reading = readConsoleUsersFile(file);
  if (reading.state === 'missing') return { file, document: { users: [] } };
  if (reading.state === 'invalid') throw new StartupError(`${describeConsoleUsersProblems(file, reading.problems)}; fix it first`);
  return { file, document: reading.document };
}

/** The first line of standard input; at a terminal, asked for and not echoed. */
function readPassword(): Promise<string> {
  const input = process.stdin;
  if (input.isTTY) process.stderr.write('Password: ');
  return new Promise((resolve, reject) => {
    let text = '';
    const done = () => {
      if (input.isTTY) {
        input.setRawMode(false);
        process.stderr.write('\n');
      }
      input.pause();
      resolve(text.split(/\r?\n/)[0] ?? '');
    };
    if (input.isTTY) input.setRawMode(true);
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      for (const character of chunk) {
        if (input.isTTY && character === '\u0003') return reject(new StartupError('cancelled'));
        if (input.isTTY && (character === '\r' || character === '\n')) return done();
        if (input.isTTY && character === '\u007f') text = text.slice(0, -1);
        else text += character;
      }
      if (text.length > MAX_PASSWORD_LENGTH + 2) done();
    });
    input.once('end', done);
    input.once('error', reject);
  });
}

program.parseAsync(process.argv).catch((error: unknown) => {
  const known = error instanceof BridgeError || error instanceof StartupError;
  process.stderr.write(`console:user: ${known ? (error as Error).message : `failed (${(error as Error)?.name ?? 'error'})`}\n`);
  process.exit(1);
});

import { Command } from 'commander';
import { loadConfig } from '../config/settings';
import { BridgeError, StartupError } from '../errors';
import { loadMappingFolder } from '../mapping/load';
import { gatewayAccount } from '../payments/gateway-account';
import { secret } from '../redaction/secret';
import { credentialHashFor } from '../security/service-keys';

/**
 * `npm run account-id -- nmi < credentials`: the id a connector's gateway account has in the
 * journal and in ALLOWED_ACCOUNTS. For a mapping whose account is the username that is the
 * username; for one known by its secret (NMI's security key, `credentials.account: password`)
 * it is a keyed hash (CREDENTIAL_HASH_KEY), never the secret. The credentials are read from
 * standard input as `username:password` (the Twilio connector's USERNAME and PASSWORD), so that
 * they reach no shell history or process list.
 */
const program = new Command('account-id')
  .description('Print the gateway account id of Basic credentials read from stdin as username:password')
  .argument('<connector>', 'the connector (mapping name)')
  .showHelpAfterError()
  .action(async (name: string) => {
    const config = loadConfig();
    const source = loadMappingFolder(config.mappingsDir).find((candidate) => candidate.document.name === name);
    if (!source) throw new StartupError(`no connector named ${name} in ${config.mappingsDir}`);
    const line = (await readStdin()).replace(/\r?\n$/, '');
    const colon = line.indexOf(':');
    if (colon < 0) throw new StartupError('standard input must be username:password');
    const credentials = { username: line.slice(0, colon), password: secret.hidden(line.slice(colon + 1)) };
    const account = gatewayAccount(name, source.document.credentials.account, credentials, credentialHashFor(config));
    process.stdout.write(`${account.id}\n`);
  });

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

program.parseAsync(process.argv).catch((error: unknown) => {
  const known = error instanceof BridgeError || error instanceof StartupError;
  process.stderr.write(`account-id: ${known ? (error as Error).message : `failed (${(error as Error)?.name ?? 'error'})`}\n`);
  process.exit(1);
});

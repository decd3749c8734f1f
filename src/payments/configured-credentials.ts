import type { SecretReader } from '../config/settings';
import { ConfigError } from '../errors';
import type { ConnectorCatalog, GatewayConnector } from '../mapping/connectors';
import type { Credentials } from '../mapping/values';
import { secret } from '../redaction/secret';
import type { KeyedHash } from '../security/keyed-hash';
import { gatewayAccount, type GatewayAccount } from './gateway-account';

/** What a channel with no Basic header of its own (the payment page) charges a connector as. */
export interface ConfiguredPayer {
  connector: GatewayConnector;
  credentials: Credentials;
  account: GatewayAccount;
}

/** `payconex` -> GATEWAY_CREDENTIALS_PAYCONEX; `authorize-net` -> GATEWAY_CREDENTIALS_AUTHORIZE_NET. */
export function credentialsVariablePrefix(name: string): string {
  return `GATEWAY_CREDENTIALS_${name.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * The gateway credentials configured per connector (decisions item 2): GATEWAY_CREDENTIALS_<NAME>_USERNAME
 * and _PASSWORD (or their _FILE forms), the same two values Twilio's Basic header would bring, fed to
 * the mapping's auth sources unchanged. Checked at start-up: half a pair, credentials the mapping
 * would refuse, or an account ALLOWED_ACCOUNTS does not list stop the service, naming the variable.
 */
export function configuredPayers(
  catalog: ConnectorCatalog,
  read: SecretReader,
  hash: KeyedHash,
  allowedAccounts?: ReadonlySet<string>,
): Map<string, ConfiguredPayer> {
  const payers = new Map<string, ConfiguredPayer>();
  for (const connector of catalog.list()) {
    const prefix = credentialsVariablePrefix(connector.name);
    const username = read(`${prefix}_USERNAME`);
    const password = read(`${prefix}_PASSWORD`);
    if (username === undefined && password === undefined) continue;
    if (username === undefined || password === undefined) {
      throw new ConfigError(`Invalid configuration: ${prefix}_USERNAME and ${prefix}_PASSWORD go together (or their _FILE forms)`);
    }
    const check = connector.mapping.credentials;
    if (!check.accepts(username, password)) {
      throw new ConfigError(`Invalid configuration: ${prefix}_USERNAME/_PASSWORD are not valid credentials for ${connector.name}${check.hint ? `: ${check.hint}` : ''}`);
    }
    const credentials: Credentials = { username, password: secret.hidden(password) };
    const account = gatewayAccount(connector.name, check.account, credentials, hash);
    if (allowedAccounts && ![account.id, ...account.formerIds].some((id) => allowedAccounts.has(id))) {
      throw new ConfigError(`Invalid configuration: ${prefix}_USERNAME/_PASSWORD name a gateway account ALLOWED_ACCOUNTS does not list`);
    }
    payers.set(connector.name, { connector, credentials, account });
  }
  return payers;
}

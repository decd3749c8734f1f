import type { SecretReader } from '../config/settings';
import { constantTimeMatcher } from '../redaction/constant-time';
import type { AccountCredential, MappingDocument } from './types';

export interface CredentialCheck {
  /** True when the Basic auth credentials may use this connector. */
  accepts(username: string, password: string): boolean;
  /**
   * True when `accepts` proves the credentials (configured mode); false when it only checks
   * their shape and the gateway alone can tell (pass-through).
   */
  proves: boolean;
  /** Which credential identifies the gateway account. */
  account: AccountCredential;
  /** A sentence on what the credentials must look like, for the 401 answer. */
  hint: string;
}

/** `payconex` -> CONNECTOR_PAYCONEX; `authorize-net` -> CONNECTOR_AUTHORIZE_NET. */
export function connectorVariablePrefix(name: string): string {
  return `CONNECTOR_${name.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * passthrough: the Basic credentials are the gateway's own (PayConex), checked only
 * for shape. configured: they must equal the ones configured for this connector,
 * compared in constant time; the gateway's own secret then comes from env.* sources.
 */
export function compileCredentialCheck(
  document: MappingDocument,
  secret: SecretReader,
  fail: (at: Array<string | number>, message: string) => never,
): CredentialCheck {
  const rules = document.credentials;
  if (rules.mode === 'configured') {
    const prefix = connectorVariablePrefix(document.name);
    const username = secret(`${prefix}_USERNAME`);
    const password = secret(`${prefix}_PASSWORD`);
    if (!username || !password) {
      fail(['credentials', 'mode'], `configured credentials need ${prefix}_USERNAME and ${prefix}_PASSWORD (or ${prefix}_USERNAME_FILE and ${prefix}_PASSWORD_FILE)`);
    }
    const matches = constantTimeMatcher(`${username}\u0000${password}`);
    return {
      accepts: (givenUsername, givenPassword) => matches(`${givenUsername}\u0000${givenPassword}`),
      proves: true,
      account: rules.account,
      hint: '',
    };
  }

  const usernamePattern = rules.username ? new RegExp(rules.username.pattern) : undefined;
  const passwordPattern = rules.password ? new RegExp(rules.password.pattern) : undefined;
  return {
    accepts: (username, password) =>
      username.length > 0 && password.length > 0 && (usernamePattern?.test(username) ?? true) && (passwordPattern?.test(password) ?? true),
    proves: false,
    account: rules.account,
    hint: [
      rules.username?.description && `the username is ${rules.username.description}`,
      rules.password?.description && `the password is ${rules.password.description}`,
    ]
      .filter(Boolean)
      .join('; '),
  };
}

import type { AccountCredential } from '../mapping/types';
import type { Credentials } from '../mapping/values';
import type { KeyedHash } from '../security/keyed-hash';

/**
 * Who a payment belongs to, as far as this service can tell from the Basic credentials: the
 * gateway account they name, and a keyed hash of the whole credentials, so that a retry of a
 * recorded payment must bring the same secret (SECURITY.md, "A caller holding a merchant's
 * account id but not its key").
 */
export interface GatewayAccount {
  /**
   * The journal key and the ALLOWED_ACCOUNTS entry: the username when it names the account
   * (PayConex's account id), a keyed hash (`key:...`) when the secret does (NMI's security key).
   */
  id: string;
  /** The same id under the previous hash key, while one is configured and it differs. */
  formerIds: string[];
  /** Keyed hash of connector, username and password: stored with the claim. */
  credentialHash: string;
  /** True when a stored credential hash was made from these credentials (with any accepted key). */
  madeThis(storedHash: string | null): boolean;
}

export function gatewayAccount(connector: string, account: AccountCredential, credentials: Credentials, hash: KeyedHash): GatewayAccount {
  const { username } = credentials;
  const password = credentials.password.reveal();
  const ids =
    account === 'username'
      ? [username]
      : hash.allOf(connector, 'account', account === 'both' ? username : '', password).map((digest) => `key:${digest}`);
  const credentialHashes = hash.allOf(connector, 'credentials', username, password);
  return {
    id: ids[0]!,
    formerIds: ids.slice(1),
    credentialHash: credentialHashes[0]!,
    // A record written before credential hashes were kept has none: it is recognised as before.
    madeThis: (storedHash) => storedHash === null || credentialHashes.includes(storedHash),
  };
}

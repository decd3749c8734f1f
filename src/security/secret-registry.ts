import { randomBytes } from 'node:crypto';
import { hashSecret, parseSecretHash, type SecretChecks, type SecretHash } from './secret-hash';

/** An entry known by a name and a secret: `registration` tells it from an earlier entry of the same name. */
export interface Registration {
  registration: string;
}

/**
 * Entries known by a name and a secret kept as a hash (API clients, console agents), replaced
 * whole when their file changes. A name nobody has is checked against a dummy hash of the same
 * cost, so that it takes as long as a known one; checks run a bounded number at a time (SecretChecks).
 */
export class SecretRegistry<T extends Registration> {
  private entries = new Map<string, { value: T; hash: SecretHash }>();
  private readonly unknownHash: SecretHash;

  constructor(
    private readonly checks: SecretChecks,
    /** The cost of the dummy hash: the cost of the entries' own. */
    scrypt?: Parameters<typeof hashSecret>[1],
  ) {
    this.unknownHash = parseSecretHash(hashSecret(randomBytes(32).toString('base64url'), scrypt)) as SecretHash;
  }

  replace(entries: ReadonlyArray<{ name: string; value: T; hash: SecretHash }>): void {
    this.entries = new Map(entries.map(({ name, value, hash }) => [name, { value, hash }]));
  }

  get(name: string): T | undefined {
    return this.entries.get(name)?.value;
  }

  values(): T[] {
    return [...this.entries.values()].map(({ value }) => value);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry whose secret this is, or undefined. */
  async authenticate(name: string, secret: string): Promise<T | undefined> {
    const registered = this.entries.get(name);
    const matches = await this.checks.matches(secret, registered?.hash ?? this.unknownHash);
    if (!matches || !registered) return undefined;
    // Removed or re-registered while its secret was being checked: the file now says otherwise.
    return this.get(name)?.registration === registered.value.registration ? registered.value : undefined;
  }
}

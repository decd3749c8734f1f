import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { TooManyCredentialChecks } from '../errors';

/**
 * Client secrets are stored only as scrypt hashes: `scrypt$N$r$p$<salt>$<hash>` (salt and hash in
 * base64), so the parameters travel with each hash and can be raised later without breaking the
 * hashes already written. The secrets the CLI generates are 256 random bits, far beyond any
 * search, so the default cost is scrypt's usual interactive one (N=2^14, r=8: 16 MiB, tens of
 * milliseconds) rather than a password-grade one: what it must not do is let guesses eat the CPU,
 * which SecretChecks bounds.
 */
export const SECRET_HASH_PATTERN = '^scrypt\\$[0-9]{1,8}\\$[0-9]{1,3}\\$[0-9]{1,3}\\$[A-Za-z0-9+/]{22,}={0,2}\\$[A-Za-z0-9+/]{43,}={0,2}$';

export const DEFAULT_SCRYPT = { N: 2 ** 14, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** A hash a file asks for must stay within this memory (128 * N * r bytes): two at once stay well under the service's budget. */
const MAX_SCRYPT_MEMORY = 64 * 1024 * 1024;
const MAX_P = 4;

/** Secret checks running at once (libuv has four threads; the rest serve files and DNS). */
export const SECRET_CHECKS_CONCURRENT = 2;
/** Secret checks waiting for one of those; past it a check is refused at once. */
export const SECRET_CHECKS_QUEUED = 16;

export interface SecretHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

/** A new hash of a secret, in the stored form. */
export function hashSecret(secret: string, params: { N: number; r: number; p: number } = DEFAULT_SCRYPT): string {
  const salt = randomBytes(SALT_BYTES);
  const hash = scryptSync(secret, salt, HASH_BYTES, { ...params, maxmem: memoryFor(params) });
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/**
 * The stored form read back, or the reason it cannot be used (never quoting it). N must be a
 * power of two, and the memory a check takes bounded, whatever the file says.
 */
export function parseSecretHash(text: string): SecretHash | string {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return 'must be scrypt$N$r$p$salt$hash';
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (!Number.isInteger(Math.log2(N)) || N < 2) return 'scrypt N must be a power of two';
  if (r < 1 || p < 1 || p > MAX_P) return `scrypt r must be at least 1 and p from 1 to ${MAX_P}`;
  if (memoryFor({ N, r }) > MAX_SCRYPT_MEMORY) return `scrypt N and r need more than ${MAX_SCRYPT_MEMORY / 1024 / 1024} MiB`;
  const salt = Buffer.from(parts[4]!, 'base64');
  const hash = Buffer.from(parts[5]!, 'base64');
  if (salt.length < SALT_BYTES || hash.length < HASH_BYTES) return `the salt must have at least ${SALT_BYTES} bytes and the hash ${HASH_BYTES}`;
  return { N, r, p, salt, hash };
}

/** What scrypt needs, with room: Node refuses anything over maxmem. */
function memoryFor({ N, r }: { N: number; r: number }): number {
  return 128 * N * r + 1024 * 1024;
}

/**
 * Compares secrets with their hashes a bounded number at a time (SECRET_CHECKS_CONCURRENT), with
 * a bounded queue (SECRET_CHECKS_QUEUED); a check beyond both is refused at once with
 * TOO_MANY_CREDENTIAL_CHECKS. The comparison is constant-time.
 */
export class SecretChecks {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly concurrent = SECRET_CHECKS_CONCURRENT,
    private readonly queued = SECRET_CHECKS_QUEUED,
  ) {}

  async matches(secret: string, stored: SecretHash): Promise<boolean> {
    await this.slot();
    try {
      return await this.compare(secret, stored);
    } finally {
      this.release();
    }
  }

  /** Checks running and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** One check, in its slot. */
  protected async compare(secret: string, stored: SecretHash): Promise<boolean> {
    const derived = await derive(secret, stored);
    return timingSafeEqual(derived, stored.hash);
  }

  private slot(): Promise<void> {
    if (this.running < this.concurrent) {
      this.running += 1;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.queued) {
      return Promise.reject(new TooManyCredentialChecks('Too many client authentications at once; try again shortly', 1));
    }
    // The slot passes straight from the check that ends to the first in line: `running` stays.
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running -= 1;
  }
}

function derive(secret: string, { N, r, p, salt, hash }: SecretHash): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, hash.length, { N, r, p, maxmem: memoryFor({ N, r }) }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

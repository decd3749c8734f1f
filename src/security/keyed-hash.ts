import { createHmac } from 'node:crypto';

/**
 * HMAC-SHA256 under a service key, for facts that must be recognised later but never read back
 * (which gateway credentials made a payment). Without the key a hash cannot be checked against a
 * guess; with it, a random gateway key still cannot be found from its hash. After a rotation the
 * previous key's hashes are still recognised.
 */
export class KeyedHash {
  private readonly keys: string[];

  constructor(current: string, previous?: string) {
    this.keys = previous && previous !== current ? [current, previous] : [current];
  }

  /** The hash under the current key: what is stored. */
  of(...parts: string[]): string {
    return digest(this.keys[0]!, parts);
  }

  /** The hash under every accepted key, current first: what a stored hash may equal. */
  allOf(...parts: string[]): string[] {
    return this.keys.map((key) => digest(key, parts));
  }
}

/** 128 bits, hex. Each part is length-prefixed, so no two lists of parts give the same input. */
function digest(key: string, parts: string[]): string {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(`${Buffer.byteLength(part)}:${part}`);
  return hmac.digest('hex').slice(0, 32);
}

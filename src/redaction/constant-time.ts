import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares a secret someone sent with the configured one in constant time. Both
 * are hashed first, which also gives timingSafeEqual the equal lengths it needs.
 */
export function constantTimeMatcher(expected: string): (given: string) => boolean {
  const expectedDigest = digest(expected);
  return (given) => timingSafeEqual(digest(given), expectedDigest);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

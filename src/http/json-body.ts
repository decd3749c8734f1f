import { REQUEST_LIMITS } from '../contract/request-schema';
import { protectSensitiveFields } from '../contract/sensitive-fields';
import { BodyTooComplex, ForbiddenKey, MalformedBody } from '../errors';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The body as a JSON object, whatever Content-Type said (Twilio has sent none),
 * checked for shape limits and with its card and bank fields already `Secret`s.
 * JSON.parse's own message quotes the text around the error, which may be card
 * digits, so it is never passed on.
 */
export function parseJsonObject(text: unknown): Record<string, unknown> {
  const raw = typeof text === 'string' ? text : '';
  if (raw.trim().length === 0) throw new MalformedBody('The body is empty; a JSON object is expected');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new MalformedBody('The body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MalformedBody('The body must be a JSON object');
  }
  checkShape(parsed);
  return protectSensitiveFields(parsed as Record<string, unknown>);
}

/** Depth and key-count limits, and no key that could reach an object's prototype. */
function checkShape(root: object): void {
  let keys = 0;
  const visit = (node: unknown, depth: number): void => {
    if (node === null || typeof node !== 'object') return;
    if (depth > REQUEST_LIMITS.maxDepth) {
      throw new BodyTooComplex(`The body nests deeper than ${REQUEST_LIMITS.maxDepth} levels`);
    }
    for (const [key, value] of Object.entries(node)) {
      if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenKey(`The body has a forbidden key "${key}"`);
      keys += 1;
      if (keys > REQUEST_LIMITS.maxKeys) throw new BodyTooComplex(`The body has more than ${REQUEST_LIMITS.maxKeys} keys`);
      visit(value, depth + 1);
    }
  };
  visit(root, 1);
}

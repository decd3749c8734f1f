import { MalformedBody } from '../errors';

/**
 * The body as a JSON object, whatever Content-Type said (Twilio has sent none).
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
  return parsed as Record<string, unknown>;
}

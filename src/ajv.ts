import Ajv, { type ErrorObject, type Options } from 'ajv';
import addFormats from 'ajv-formats';

/** One way to build validators, so every schema in the service follows the same rules. */
export function createAjv(options: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, ...options });
  addFormats(ajv);
  // An annotation, not a rule: which request fields carry card or bank data (contract/sensitive-fields.ts).
  ajv.addKeyword({ keyword: 'x-sensitive', schemaType: 'string' });
  return ajv;
}

/** `/request/fields/0/pad` -> `request.fields[0].pad`; the root is `(root)`. */
export function readablePath(instancePath: string): string {
  if (!instancePath) return '(root)';
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

/**
 * An ajv error as one line, from its message, path and parameters: ajv's messages never quote
 * the offending value (`verbose` only attaches it as `error.data`, which is never read here),
 * so the line is safe to show.
 */
export function describeAjvError(error: ErrorObject): string {
  const path = error.instancePath;
  if (error.keyword === 'additionalProperties') {
    const extra = String((error.params as { additionalProperty: string }).additionalProperty);
    return `${readablePath(path === '' ? '' : path)}: unknown key "${extra}"`;
  }
  if (error.keyword === 'required') {
    const missing = String((error.params as { missingProperty: string }).missingProperty);
    return `${readablePath(path)}: missing required key "${missing}"`;
  }
  return `${readablePath(path)}: ${error.message ?? 'is invalid'}`;
}

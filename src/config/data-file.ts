import fs from 'node:fs';
import path from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { readablePath } from '../ajv';

/** A data file (YAML or JSON) that passed its schema, and how to point at a place in it. */
export interface CheckedDocument<T> {
  /** The file as errors show it: relative to the working folder when inside it. */
  shown: string;
  document: T;
  /** `file:line:column` of the value at a path, or of its nearest parent. */
  locate(at: Array<string | number>): string;
}

/**
 * Reads a data file the product is configured with (mappings, prompts, message templates), YAML or
 * JSON, and checks it against its JSON Schema (an ajv validator compiled with `verbose: true`).
 * Errors name the file, the line and column, and the path; only ajv's messages and the file's key
 * names are ever printed, never a value of the file.
 */
export function loadCheckedFile<T>(file: string, validate: ValidateFunction<T>, fail: (message: string) => Error): CheckedDocument<T> {
  const relative = path.relative(process.cwd(), file);
  const shown = relative && !relative.startsWith('..') ? relative : file;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw fail(`${shown}: cannot be read`);
  }

  const lineCounter = new LineCounter();
  const parsed = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (parsed.errors.length > 0) {
    const first = parsed.errors[0]!;
    const where = lineCounter.linePos(first.pos[0]);
    throw fail(`${shown}:${where.line}:${where.col}: not valid ${path.extname(file).slice(1).toUpperCase() || 'YAML'}: ${first.code}`);
  }

  const locate = (at: Array<string | number>): string => {
    for (let depth = at.length; depth >= 0; depth--) {
      const node = parsed.getIn(at.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) {
        const position = lineCounter.linePos(node.range[0]);
        return `${shown}:${position.line}:${position.col}`;
      }
    }
    return shown;
  };

  const document: unknown = parsed.toJS();
  if (!validate(document)) throw fail(describeSchemaErrors(validate.errors ?? [], locate));
  return { shown, document, locate };
}

/**
 * ajv reports every branch of a failed oneOf/anyOf. The errors at the deepest path say
 * what is actually wrong; among them, only those of the branch that fits the value best
 * are kept (a branch of another type fits worst, then the one with the most errors), so
 * a typo next to valid keys is reported alone, not with the valid keys that another
 * branch would not know. Among those, an unknown key (usually a typo) says it best.
 */
function describeSchemaErrors(errors: ErrorObject[], locate: CheckedDocument<unknown>['locate']): string {
  const depth = (error: ErrorObject) => (error.instancePath.match(/\//g) ?? []).length;
  const summaries = ['oneOf', 'anyOf', 'if'];
  const specific = errors.filter((error) => !summaries.includes(error.keyword));
  const candidates = specific.length > 0 ? specific : errors;
  const deepest = Math.max(...candidates.map(depth));
  const pool = bestBranch(candidates.filter((error) => depth(error) === deepest));
  const preference = [
    (error: ErrorObject) => error.keyword === 'additionalProperties',
    (error: ErrorObject) => !['required', 'type'].includes(error.keyword),
    () => true,
  ];
  const chosen = preference.map((prefer) => pool.filter(prefer)).find((group) => group.length > 0) ?? pool;

  const first = chosen[0]!;
  const segments = first.instancePath.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const detail = [...new Set(chosen.filter((error) => error.instancePath === first.instancePath).map(messageOf))].join('; ');
  return `${locate(segments)}: at ${readablePath(first.instancePath)}: ${detail}`;
}

/**
 * Errors at one path grouped by the (sub)schema that raised them, i.e. by oneOf/anyOf
 * branch; the errors of the best-fitting branches. A branch whose type does not even
 * match fits worst; otherwise the fewer errors, the better the fit.
 */
function bestBranch(errors: ErrorObject[]): ErrorObject[] {
  const branches = new Map<unknown, ErrorObject[]>();
  for (const error of errors) {
    const branch = error.parentSchema ?? error.schemaPath.slice(0, error.schemaPath.lastIndexOf('/'));
    branches.set(branch, [...(branches.get(branch) ?? []), error]);
  }
  const misfit = (group: ErrorObject[]) => (group.some((error) => error.keyword === 'type') ? 1_000_000 : 0) + group.length;
  const best = Math.min(...[...branches.values()].map(misfit));
  return [...branches.values()].filter((group) => misfit(group) === best).flat();
}

function messageOf(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `unknown key "${String(params.additionalProperty)}"`;
    case 'required': {
      // The key's own description says what to write there (credentials.account, for one).
      const missing = String(params.missingProperty);
      const described = (error.parentSchema as { properties?: Record<string, { description?: string }> } | undefined)?.properties?.[missing]?.description;
      return `missing required key "${missing}"${described ? `: ${described}` : ''}`;
    }
    case 'propertyNames':
      return `key "${String(params.propertyName)}" is not allowed`;
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return error.message ?? 'is invalid';
  }
}

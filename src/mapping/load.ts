import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { ErrorObject } from 'ajv';
import { createAjv, readablePath } from '../ajv';
import { MappingError } from '../errors';
import mappingSchema from './mapping.schema.json';
import type { MappingDocument, MappingSource } from './types';

const MAPPING_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

// verbose: each error names the (sub)schema that raised it, to tell oneOf branches apart. Only
// ajv's own messages and the file's key names are ever printed, never a value of the file.
const validateMapping = createAjv({ useDefaults: true, verbose: true }).compile<MappingDocument>(mappingSchema);

/** Every mapping file in a folder, parsed and checked against the mapping JSON Schema. */
export function loadMappingFolder(folder: string): MappingSource[] {
  const sources = listMappingFiles(folder).map(loadMappingFile);
  for (const source of sources) refuseSharedName(source, sources);
  return sources;
}

/** The mapping files (*.yaml, *.yml, *.json) of a folder, sorted; none is a MappingError. */
export function listMappingFiles(folder: string): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(folder);
  } catch {
    throw new MappingError(`Cannot read the mappings folder ${folder}`);
  }
  const files = entries.filter((entry) => MAPPING_EXTENSIONS.has(path.extname(entry))).sort();
  if (files.length === 0) throw new MappingError(`No mapping files (*.yaml, *.yml, *.json) in ${folder}`);
  return files.map((file) => path.join(folder, file));
}

/** Two files of one folder cannot serve the same connector: the later one is refused. */
export function refuseSharedName(source: MappingSource, all: readonly MappingSource[]): void {
  const first = all.find((other) => other.document.name === source.document.name);
  if (first && first !== source) {
    throw new MappingError(`${source.file}: name "${source.document.name}" is also used by ${first.file}`);
  }
}

/** One mapping file (YAML or JSON), checked against the schema; errors name the file, path, line and column. */
export function loadMappingFile(file: string): MappingSource {
  const relative = path.relative(process.cwd(), file);
  const shown = relative && !relative.startsWith('..') ? relative : file;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new MappingError(`${shown}: cannot be read`);
  }

  const lineCounter = new LineCounter();
  const parsed = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (parsed.errors.length > 0) {
    const first = parsed.errors[0]!;
    const where = lineCounter.linePos(first.pos[0]);
    throw new MappingError(`${shown}:${where.line}:${where.col}: not valid ${path.extname(file).slice(1).toUpperCase()}: ${first.code}`);
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
  if (!validateMapping(document)) {
    throw new MappingError(describeSchemaErrors(validateMapping.errors ?? [], locate));
  }
  const expectedName = path.basename(file, path.extname(file));
  if (document.name !== expectedName) {
    throw new MappingError(`${locate(['name'])}: at name: must be "${expectedName}", the file's name`);
  }
  return { file: shown, document, locate };
}

/**
 * ajv reports every branch of a failed oneOf/anyOf. The errors at the deepest path say
 * what is actually wrong; among them, only those of the branch that fits the value best
 * are kept (a branch of another type fits worst, then the one with the most errors), so
 * a typo next to valid keys is reported alone, not with the valid keys that another
 * branch would not know. Among those, an unknown key (usually a typo) says it best.
 */
function describeSchemaErrors(errors: ErrorObject[], locate: MappingSource['locate']): string {
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
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return error.message ?? 'is invalid';
  }
}

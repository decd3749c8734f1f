import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { ErrorObject } from 'ajv';
import { createAjv, readablePath } from '../ajv';
import { MappingError } from '../errors';
import mappingSchema from './mapping.schema.json';
import type { MappingDocument, MappingSource } from './types';

const MAPPING_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

const validateMapping = createAjv({ useDefaults: true }).compile<MappingDocument>(mappingSchema);

/** Every mapping file in a folder, parsed and checked against the mapping JSON Schema. */
export function loadMappingFolder(folder: string): MappingSource[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(folder);
  } catch {
    throw new MappingError(`Cannot read the mappings folder ${folder}`);
  }
  const files = entries.filter((entry) => MAPPING_EXTENSIONS.has(path.extname(entry))).sort();
  if (files.length === 0) throw new MappingError(`No mapping files (*.yaml, *.yml, *.json) in ${folder}`);

  const sources = files.map((file) => loadMappingFile(path.join(folder, file)));
  const seen = new Map<string, string>();
  for (const source of sources) {
    const other = seen.get(source.document.name);
    if (other) throw new MappingError(`${source.file}: name "${source.document.name}" is also used by ${other}`);
    seen.set(source.document.name, source.file);
  }
  return sources;
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
 * ajv reports every branch of a failed oneOf. The errors at the deepest path say
 * what is actually wrong, and among them an unknown key (usually a typo) says it best.
 */
function describeSchemaErrors(errors: ErrorObject[], locate: MappingSource['locate']): string {
  const depth = (error: ErrorObject) => (error.instancePath.match(/\//g) ?? []).length;
  const deepest = Math.max(...errors.map(depth));
  const atDeepest = errors.filter((error) => depth(error) === deepest && !['oneOf', 'anyOf', 'if'].includes(error.keyword));
  const preference = [
    (error: ErrorObject) => error.keyword === 'additionalProperties',
    (error: ErrorObject) => !['required', 'type'].includes(error.keyword),
    () => true,
  ];
  const pool = atDeepest.length > 0 ? atDeepest : errors.filter((error) => depth(error) === deepest);
  const chosen = preference.map((prefer) => pool.filter(prefer)).find((group) => group.length > 0) ?? pool;

  const first = chosen[0]!;
  const segments = first.instancePath.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const detail = [...new Set(chosen.filter((error) => error.instancePath === first.instancePath).map(messageOf))].join('; ');
  return `${locate(segments)}: at ${readablePath(first.instancePath)}: ${detail}`;
}

function messageOf(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `unknown key "${String(params.additionalProperty)}"`;
    case 'required':
      return `missing required key "${String(params.missingProperty)}"`;
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return error.message ?? 'is invalid';
  }
}

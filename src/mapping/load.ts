import fs from 'node:fs';
import path from 'node:path';
import { createAjv } from '../ajv';
import { loadCheckedFile } from '../config/data-file';
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
  const { shown, document, locate } = loadCheckedFile(file, validateMapping, (message) => new MappingError(message));
  const expectedName = path.basename(file, path.extname(file));
  if (document.name !== expectedName) {
    throw new MappingError(`${locate(['name'])}: at name: must be "${expectedName}", the file's name`);
  }
  return { file: shown, document, locate };
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { REPO_ROOT } from './service';

/** A temporary mappings folder; files are written as given (text) or as YAML (objects). */
export function mappingFolder(files: Record<string, string | object>): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mappings-'));
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(folder, name), typeof content === 'string' ? content : stringify(content));
  }
  return folder;
}

/** The shipped PayConex mapping as text, to derive broken variants from. */
export function payconexMappingText(): string {
  return fs.readFileSync(path.join(REPO_ROOT, 'mappings', 'payconex.yaml'), 'utf8');
}

/** A small valid mapping document that tests change one piece of. */
export function minimalMapping(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'testgw',
    endpoints: { sandbox: 'http://127.0.0.1:9/pay' },
    credentials: { account: 'username' },
    supports: { charge: ['card', 'ach'], tokenize: ['card'] },
    request: {
      encoding: 'form',
      fields: { ref: { from: 'transaction_id' } },
    },
    response: {
      encoding: 'json',
      success: { path: 'ok', equals: true },
      id: 'id',
      error_code: 'code',
      error_message: 'message',
    },
    ...overrides,
  };
}

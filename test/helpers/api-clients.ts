import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { createLogger, type Logger } from '../../src/logging/logger';
import { hashSecret } from '../../src/security/secret-hash';
import type { Scope } from '../../src/sessions/api-clients';
import { writeApiClientsFile, type ApiClientEntry } from '../../src/sessions/api-clients-file';
import { base64Alignments } from './leaks';
import { CapturedLogs } from './service';

/** Test secrets: searched for in every log line and answer. 256 bits each, as the CLI makes them. */
export const CRM_SECRET = 'crm-client-secret-Xq3vTz9LmN4pR7sW2yB6dF8hJ0kA5cE1';
export const READER_SECRET = 'reader-client-secret-Hq8wEr5tYu2iOp9aSd4fGh7jKl3zXc6';
export const WEBHOOK_SECRET = 'webhook-secret-Vb1nMq7wEr4tYu8iOp2aSd5fGh9jKl3zX';
export const TOKEN_SIGNING_KEY = 'test-token-signing-key-0123456789abcdefghij';
export const PREVIOUS_SIGNING_KEY = 'test-previous-signing-key-9876543210zyxwvuts';

export function temporaryFolder(prefix = 'api-clients-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function clientEntry(clientId: string, secret: string, scopes: Scope[], extra: Partial<ApiClientEntry> = {}): ApiClientEntry {
  return { client_id: clientId, secret_hash: hashSecret(secret), scopes, created_at: '2026-11-02T10:00:00.000Z', ...extra };
}

/** crm (sessions:write, with a webhook) and reader (sessions:read); hashed once per test file. */
export function standardClients(): ApiClientEntry[] {
  return [
    clientEntry('crm', CRM_SECRET, ['sessions:write'], { webhook_url: 'https://crm.example.com/paybridge', webhook_secret: WEBHOOK_SECRET, progress_events: true }),
    clientEntry('reader', READER_SECRET, ['sessions:read']),
  ];
}

export function writeClients(file: string, clients: ApiClientEntry[]): void {
  writeApiClientsFile(file, { clients });
}

export function capturingLogger(): { logger: Logger; logs: CapturedLogs } {
  const logs = new CapturedLogs();
  return { logs, logger: createLogger('silly', [new winston.transports.Stream({ stream: logs.stream })]) };
}

export { eventually } from './eventually';

/** Every text a secret of these tests could show as: the value itself, and the hash parts of the stored entries. */
export function secretForms(entries: ApiClientEntry[] = [], extra: string[] = []): string[] {
  const forms = [CRM_SECRET, READER_SECRET, WEBHOOK_SECRET, TOKEN_SIGNING_KEY, PREVIOUS_SIGNING_KEY, ...extra];
  for (const entry of entries) forms.push(entry.secret_hash, ...entry.secret_hash.split('$').slice(4));
  for (const value of [...forms]) forms.push(...base64Alignments(value), encodeURIComponent(value));
  return forms;
}

/** Fails naming each secret form found in the text. */
export function expectNoSecretsIn(text: string, forms: string[]): void {
  expect(text.length).toBeGreaterThan(0);
  expect(forms.filter((form) => text.includes(form))).toEqual([]);
}

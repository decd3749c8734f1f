import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger } from '../../src/logging/logger';
import { start, type RunningService } from '../../src/service';
import { CREDENTIAL_HASH_KEY } from './test-data';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export { CREDENTIAL_HASH_KEY } from './test-data';

/** Every line the service logged during a test, as text and parsed. */
export class CapturedLogs {
  readonly lines: string[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });

  get text(): string {
    return this.lines.join('\n');
  }

  entries(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

export interface TestService extends RunningService {
  logs: CapturedLogs;
}

/** A fresh folder for one service's SQLite journal. */
export function temporaryDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'journal-'));
}

/** Starts the real service on an ephemeral loopback port, logging into memory, with its own journal. */
export async function startService(env: Record<string, string | undefined> = {}): Promise<TestService> {
  const logs = new CapturedLogs();
  const level = env.LOG_LEVEL ?? 'silly';
  const logger = createLogger(level, [new winston.transports.Stream({ stream: logs.stream })]);
  const service = await start({
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: level,
      MAPPINGS_DIR: path.join(REPO_ROOT, 'mappings'),
      DATA_DIR: temporaryDataDir(),
      // Shared by every test service, as replicas share theirs; tests of the key itself unset it.
      CREDENTIAL_HASH_KEY,
      ...env,
    },
    logger,
  });
  return Object.assign(service, { logs });
}

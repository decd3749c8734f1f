import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/settings';
import { ConfigError } from '../errors';
import { KeyedHash } from './keyed-hash';

export interface ServiceKeyOptions {
  /** The setting's name, for messages and the generated file's name. */
  name: string;
  /** The value the settings hold, if any. */
  configured?: string;
  production: boolean;
  dataDir: string;
}

/**
 * A key the service needs (decisions item 3): the setting when given; required in production;
 * otherwise generated once into the data folder (mode 0600) and reused, so that a restart, and
 * replicas sharing the folder, agree. Two processes starting at once agree too: the file is
 * created whole and only if absent, and the one that loses reads the winner's.
 */
export function serviceKey({ name, configured, production, dataDir }: ServiceKeyOptions): string {
  if (configured !== undefined) return configured;
  if (production) {
    throw new ConfigError(`Invalid configuration: ${name} (or ${name}_FILE) is required with GATEWAY_ENV=production; generate one with: openssl rand -base64 32`);
  }
  const file = path.join(dataDir, `${name.toLowerCase().replace(/_/g, '-')}.key`);
  try {
    return readKey(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(name, file);
  }
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    fs.writeFileSync(draft, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    try {
      fs.linkSync(draft, file); // fails if another process created it first: theirs is kept
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      fs.rmSync(draft, { force: true });
    }
    return readKey(file);
  } catch {
    throw unreadable(name, file);
  }
}

function readKey(file: string): string {
  const key = fs.readFileSync(file, 'utf8').trim();
  if (key.length < 32) throw new Error('short key');
  return key;
}

function unreadable(name: string, file: string): ConfigError {
  return new ConfigError(`Invalid configuration: ${name} is not set and ${file} cannot be created or read; set ${name} or make DATA_DIR writable`);
}

/** CREDENTIAL_HASH_KEY (and the key it replaces), or outside production one generated into DATA_DIR. */
export function credentialHashFor(config: Config): KeyedHash {
  const current = serviceKey({
    name: 'CREDENTIAL_HASH_KEY',
    configured: config.credentialHashKey,
    production: config.gatewayEnv === 'production',
    dataDir: config.dataDir,
  });
  return new KeyedHash(current, config.credentialHashKeyPrevious);
}

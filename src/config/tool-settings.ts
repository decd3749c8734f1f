import path from 'node:path';
import type { FromSchema } from 'json-schema-to-ts';
import { createAjv, describeAjvError } from '../ajv';
import { ConfigError } from '../errors';
import { processEnvironment, type Env } from './environment';

/**
 * Settings of the tools that ship beside the service (the sandbox gateway, the CLIs, the
 * benchmarks), checked like the service's: each a JSON Schema of the variables it reads, with
 * defaults, and a message naming the variable when one is wrong.
 */
function loadSettings<Settings>(schema: { properties: Record<string, unknown> }, env: Env): Settings {
  const validate = createAjv({ coerceTypes: true, useDefaults: true, strict: false }).compile(schema);
  const given = Object.fromEntries(Object.keys(schema.properties).flatMap((name) => (env[name] ? [[name, env[name]]] : [])));
  if (!validate(given)) throw new ConfigError(`Invalid configuration: ${(validate.errors ?? []).map(describeAjvError).join('; ')}`);
  return given as Settings;
}

const port = (fallback: number, description: string) => ({ type: 'integer', minimum: 0, maximum: 65535, default: fallback, description }) as const;

export const sandboxSettingsSchema = {
  type: 'object',
  properties: {
    SANDBOX_HOST: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'Address the standalone sandbox gateway listens on.' },
    SANDBOX_PORT: port(9000, 'Port of the standalone sandbox gateway.'),
  },
  required: ['SANDBOX_HOST', 'SANDBOX_PORT'],
} as const;

/** `npm run sandbox`. */
export function loadSandboxSettings(env: Env = processEnvironment()) {
  return loadSettings<FromSchema<typeof sandboxSettingsSchema>>(sandboxSettingsSchema, env);
}

const mappingToolSettingsSchema = {
  type: 'object',
  properties: { MAPPINGS_DIR: { type: 'string', minLength: 1, description: 'Folder of mapping files.' } },
} as const;

/** `npm run mappings:check` and `mappings:table`: which folder to read when no file is named. */
export function loadMappingToolSettings(env: Env = processEnvironment()) {
  const settings = loadSettings<FromSchema<typeof mappingToolSettingsSchema>>(mappingToolSettingsSchema, env);
  return { mappingsDir: settings.MAPPINGS_DIR ?? path.resolve(__dirname, '..', '..', 'mappings') };
}

const benchSettingsSchema = {
  type: 'object',
  properties: {
    BENCH_SECONDS: { type: 'integer', minimum: 1, default: 10, description: 'Scales the phases of npm run bench.' },
    BENCH_REQUESTS: { type: 'integer', minimum: 1, default: 2000, description: 'Sequential payments of npm run bench:journal.' },
    BENCH_DATABASE_URL: { type: 'string', pattern: '^postgres(ql)?://', description: 'PostgreSQL for npm run bench:journal.' },
    TEST_DATABASE_URL: { type: 'string', pattern: '^postgres(ql)?://', description: 'Taken when BENCH_DATABASE_URL is unset.' },
    SANDBOX_URL: { type: 'string', pattern: '^https?://', description: 'The gateway a comparison forwarder calls (set by npm run bench).' },
    BENCH_SESSIONS: { type: 'integer', minimum: 1, maximum: 5000, default: 500, description: 'Concurrent sessions of npm run bench:sessions.' },
    PATH: { type: 'string', default: '', description: 'Handed to the processes the bench starts.' },
  },
  required: ['BENCH_SECONDS', 'BENCH_REQUESTS', 'BENCH_SESSIONS', 'PATH'],
} as const;

/** `npm run bench` and its forwarders, `npm run bench:journal`. */
export function loadBenchSettings(env: Env = processEnvironment()) {
  const settings = loadSettings<FromSchema<typeof benchSettingsSchema>>(benchSettingsSchema, env);
  return {
    seconds: settings.BENCH_SECONDS,
    journalRequests: settings.BENCH_REQUESTS,
    sessions: settings.BENCH_SESSIONS,
    databaseUrl: settings.BENCH_DATABASE_URL ?? settings.TEST_DATABASE_URL,
    sandboxUrl: settings.SANDBOX_URL,
    path: settings.PATH,
  };
}

export const simulatorSettingsSchema = {
  type: 'object',
  properties: {
    SIMULATOR_HOST: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'Address the pay-session simulator listens on.' },
    SIMULATOR_PORT: port(8090, 'Port of the pay-session simulator.'),
    SIMULATOR_AUTH_TOKEN: { type: 'string', minLength: 1, default: 'simulator-auth-token', description: 'The auth token of every simulated account.' },
    SIMULATOR_CONNECTORS: { type: 'string', minLength: 1, description: 'A JSON file of the payment connectors, as in Twilio\'s console.' },
    SIMULATOR_UNREACHABLE_NUMBERS: { type: 'string', description: 'Comma-separated phone numbers whose text messages end undelivered.' },
  },
  required: ['SIMULATOR_HOST', 'SIMULATOR_PORT', 'SIMULATOR_AUTH_TOKEN'],
} as const;

/** `npm run simulator`. */
export function loadSimulatorSettings(env: Env = processEnvironment()) {
  return loadSettings<FromSchema<typeof simulatorSettingsSchema>>(simulatorSettingsSchema, env);
}

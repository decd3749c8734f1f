import fs from 'node:fs';
import path from 'node:path';
import { createAjv, describeAjvError } from '../ajv';
import type { FromSchema } from 'json-schema-to-ts';
import { ConfigError } from '../errors';
import { processEnvironment, type Env } from './environment';

export const GATEWAY_ENVIRONMENTS = ['sandbox', 'certification', 'production'] as const;
export type GatewayEnvironment = (typeof GATEWAY_ENVIRONMENTS)[number];

const GATEWAY_URL_PREFIX = 'GATEWAY_URL_';

/** The environment the service reads, as a JSON Schema: the single description of every setting. */
export const configSchema = {
  type: 'object',
  properties: {
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: 'Port to listen on (0 picks a free one).' },
    HOST: { type: 'string', minLength: 1, default: '0.0.0.0', description: 'Address to listen on.' },
    LOG_LEVEL: {
      enum: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'],
      default: 'info',
      description: 'winston log level.',
    },
    DEFAULT_CONNECTOR: {
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9_-]*$',
      default: 'payconex',
      description: 'Mapping served on POST /.',
    },
    GATEWAY_ENV: { enum: [...GATEWAY_ENVIRONMENTS], default: 'sandbox', description: 'Which endpoint of each mapping to call.' },
    GATEWAY_TIMEOUT_MS: {
      type: 'integer',
      minimum: 100,
      maximum: 120000,
      default: 40000,
      description: 'Deadline for one gateway call, connection included. Twilio retries after 10 s; the journal answers its retries.',
    },
    MAPPINGS_DIR: { type: 'string', minLength: 1, description: 'Folder of mapping files (default: the repository mappings/).' },
    DATA_DIR: { type: 'string', minLength: 1, default: './data', description: 'Folder of the SQLite journal file.' },
    DATABASE_URL: { secret: true,
      type: 'string',
      pattern: '^postgres(ql)?://',
      description: 'PostgreSQL connection string; switches the journal from SQLite to PostgreSQL.',
    },
    RETENTION_DAYS: { type: 'integer', minimum: 1, maximum: 3650, default: 30, description: 'Days journal records are kept.' },
    ADMIN_TOKEN: { secret: true,
      type: 'string',
      minLength: 16,
      description: 'Bearer token that enables GET /transactions (at least 16 characters).',
    },
    ALLOWED_ACCOUNTS: {
      type: 'string',
      pattern: '^[^,\\s]+(\\s*,\\s*[^,\\s]+)*$',
      description: 'Comma-separated gateway accounts (Basic usernames) allowed to use this deployment.',
    },
    BODY_LIMIT_BYTES: { type: 'integer', minimum: 1024, maximum: 1048576, default: 16384, description: 'Largest request body accepted.' },
    MAX_HEADER_BYTES: {
      type: 'integer',
      minimum: 2048,
      maximum: 16384,
      default: 8192,
      description: "Largest request head (request line and headers) accepted; Twilio's are well under 2 KB.",
    },
    BODY_TIMEOUT_MS: {
      type: 'integer',
      minimum: 500,
      maximum: 60000,
      default: 5000,
      description: 'Time a request body has to arrive once its headers have (Twilio sends both at once).',
    },
    MAX_UNAUTHENTICATED_CONNECTIONS: {
      type: 'integer',
      minimum: 1,
      maximum: 100000,
      default: 1000,
      description: 'Connections and requests that have not authenticated yet, in all; more are refused with 503 at once.',
    },
    MAX_UNAUTHENTICATED_PER_ADDRESS: {
      type: 'integer',
      minimum: 1,
      maximum: 100000,
      default: 100,
      description: 'The same, per client address (IPv6: per /64).',
    },
    CREDENTIAL_HASH_KEY: { secret: true,
      type: 'string',
      minLength: 32,
      description: 'Key of the keyed hash (HMAC-SHA256) of gateway credentials in the journal, shared by every replica (at least 32 characters).',
    },
    CREDENTIAL_HASH_KEY_PREVIOUS: { secret: true,
      type: 'string',
      minLength: 32,
      description: 'The key CREDENTIAL_HASH_KEY replaces: hashes made with it are still recognised.',
    },
    HEADERS_TIMEOUT_MS: {
      type: 'integer',
      minimum: 500,
      maximum: 120000,
      default: 10000,
      description: 'Time a client has to send its request headers (slow-loris connections are cut after it).',
    },
    REQUEST_TIMEOUT_MS: {
      type: 'integer',
      minimum: 500,
      maximum: 300000,
      default: 30000,
      description: 'Time a client has to send its whole request.',
    },
    KEEP_ALIVE_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 5000, description: 'Idle keep-alive connections close after it.' },
    SHUTDOWN_TIMEOUT_MS: {
      type: 'integer',
      minimum: 0,
      maximum: 600000,
      description: 'How long SIGTERM waits for requests in flight (default: GATEWAY_TIMEOUT_MS + 5000).',
    },
    TWILIO_ACCOUNT_SID: {
      type: 'string',
      pattern: '^AC[0-9a-fA-F]{32}$',
      description: 'The Twilio account payment sessions run on; turns the session API on (then TWILIO_AUTH_TOKEN and PUBLIC_URL are required).',
    },
    TWILIO_AUTH_TOKEN: {
      secret: true,
      type: 'string',
      minLength: 16,
      description: "The account's auth token: what signs Twilio's callbacks (X-Twilio-Signature), and the REST credential unless an API key is set.",
    },
    TWILIO_API_KEY: { type: 'string', pattern: '^SK[0-9a-fA-F]{32}$', description: 'A Twilio API key for REST calls instead of the auth token.' },
    TWILIO_API_SECRET: { secret: true, type: 'string', minLength: 16, description: "The API key's secret." },
    TWILIO_API_BASE: {
      type: 'string',
      format: 'uri',
      pattern: '^https?://',
      default: 'https://api.twilio.com',
      description: "Where Twilio's REST API is: the simulator's URL offline.",
    },
    TWILIO_PAYMENT_CONNECTOR: {
      type: 'string',
      minLength: 1,
      default: 'Default',
      description: "The Twilio payment connector (as named in Twilio's console) sessions use unless they name one.",
    },
    PUBLIC_URL: {
      type: 'string',
      format: 'uri',
      pattern: '^https?://[^/?#]+(/[^?#]*)?$',
      description: 'The URL this service is reached at from outside (https), for the callbacks Twilio is given and signs.',
    },
    API_CLIENTS_FILE: {
      type: 'string',
      minLength: 1,
      description: 'JSON file of the session API clients (npm run api-clients); default DATA_DIR/api-clients.json. Re-read when it changes.',
    },
    TOKEN_SIGNING_KEY: {
      secret: true,
      type: 'string',
      minLength: 32,
      description: 'Key that signs access tokens and console links, shared by every replica (at least 32 characters).',
    },
    TOKEN_SIGNING_KEY_PREVIOUS: { secret: true, type: 'string', minLength: 32, description: 'The key TOKEN_SIGNING_KEY replaces: tokens it signed are still accepted.' },
    ACCESS_TOKEN_TTL_S: { type: 'integer', minimum: 60, maximum: 86400, default: 3600, description: 'Lifetime of an access token.' },
    AGENT_SESSION_TIMEOUT_S: {
      type: 'integer',
      minimum: 10,
      maximum: 3600,
      default: 300,
      description: 'An agent session not finished in this time is cancelled at Twilio and ends expired (never while processing).',
    },
    IVR_SESSION_TIMEOUT_S: {
      type: 'integer',
      minimum: 10,
      maximum: 86400,
      default: 600,
      description: "An IVR session whose twiml_url Twilio has not fetched in this time ends expired (the link stops working).",
    },
    IVR_PAY_LIMIT_S: {
      type: 'integer',
      minimum: 60,
      maximum: 7200,
      default: 900,
      description: "How long an IVR session's <Pay> may run without its action reaching the service; then the session settles from the journal (expired if nothing was paid).",
    },
    IVR_PROMPTS_FILE: {
      type: 'string',
      minLength: 1,
      description: "YAML or JSON file of the hosted <Pay>'s prompts per language and field (prompts/ivr-prompts.example.yaml); Twilio's own when unset. Checked at start-up.",
    },
    SESSION_SETTLE_AFTER_S: {
      type: 'integer',
      minimum: 5,
      maximum: 3600,
      default: 120,
      description: 'A processing session whose final callback has not come after this long settles from the journal record of its payment.',
    },
    MAX_EVENT_STREAMS_PER_CLIENT: {
      type: 'integer',
      minimum: 1,
      maximum: 100000,
      default: 1000,
      description: 'Event streams (GET /v1/sessions/{id}/events) one API client may hold open at once.',
    },
    CONSOLE_USERS_FILE: {
      type: 'string',
      minLength: 1,
      description: 'JSON file of the agents who may sign in to /console (npm run console:user); default DATA_DIR/console-users.json. Re-read when it changes.',
    },
    CONSOLE_FRAME_ANCESTORS: {
      type: 'string',
      pattern: "^('none'|(('self'|https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)([ ,]+('self'|https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?))*))$",
      default: "'none'",
      description: "Who may show the console in a frame (and send it postMessage): 'none', or origins such as https://desktop.example.com, separated by spaces or commas.",
    },
    CONSOLE_CONNECTORS: {
      type: 'string',
      pattern: '^[A-Za-z0-9_ -]{1,64}(,[A-Za-z0-9_ -]{1,64})*$',
      description: 'The Twilio payment connectors the console offers, comma-separated (default: TWILIO_PAYMENT_CONNECTOR).',
    },
    CONSOLE_LINK_TTL_S: { type: 'integer', minimum: 30, maximum: 86400, default: 600, description: "How long a session's console_url may be opened (once)." },
    CONSOLE_TOKEN_TTL_S: {
      type: 'integer',
      minimum: 60,
      maximum: 86400,
      default: 900,
      description: 'Lifetime of the bearer token a console opened from a console_url holds in memory (one session only).',
    },
    CONSOLE_SESSION_TTL_S: { type: 'integer', minimum: 300, maximum: 86400, default: 28800, description: "How long an agent's console sign-in lasts." },
    DIGITAL_MAX_ATTEMPTS: {
      type: 'integer',
      minimum: 1,
      maximum: 10,
      default: 3,
      description: "Payment attempts a digital session's link allows: a declined card may be tried again until then.",
    },
    MERCHANT_NAME: {
      type: 'string',
      minLength: 1,
      maxLength: 60,
      pattern: '^[^\\u0000-\\u001f<>{}]*$',
      default: 'Demo Merchant',
      description: 'The merchant named on the payment page and in the link message.',
    },
    MERCHANT_COUNTRY: {
      type: 'string',
      pattern: '^[A-Z]{2}$',
      default: 'US',
      description: "The merchant's country (ISO 3166 alpha-2): link messages go to its numbers unless SMS_ALLOWED_COUNTRIES says more.",
    },
    SMS_ALLOWED_COUNTRIES: {
      type: 'string',
      pattern: '^[A-Z]{2}(,[A-Z]{2})*$',
      description: 'Countries (ISO 3166 alpha-2, comma-separated) whose numbers may get link messages; default MERCHANT_COUNTRY. Against SMS pumping.',
    },
    SMS_MODE: {
      enum: ['twilio', 'log'],
      default: 'twilio',
      description: "twilio: link messages go through Twilio's Messages API; log: the link is written to the log instead (refused with GATEWAY_ENV=production).",
    },
    TWILIO_SMS_FROM: { type: 'string', pattern: '^\\+[1-9][0-9]{6,14}$', description: 'The number link messages are sent from (E.164).' },
    TWILIO_MESSAGING_SERVICE_SID: {
      type: 'string',
      pattern: '^MG[0-9a-fA-F]{32}$',
      description: 'The Messaging Service link messages are sent through (its opt-out handling answers STOP); used instead of TWILIO_SMS_FROM when set.',
    },
    SMS_TEMPLATE_FILE: {
      type: 'string',
      minLength: 1,
      description: 'YAML or JSON file of the link message (templates/sms-link.yaml by default). Checked at start-up.',
    },
    SMS_PER_NUMBER_PER_HOUR: {
      type: 'integer',
      minimum: 1,
      maximum: 100,
      default: 5,
      description: 'Link messages one phone number may get in an hour, whatever the session (per replica).',
    },
    PAY_PAGE_REQUESTS_PER_MINUTE: {
      type: 'integer',
      minimum: 10,
      maximum: 100000,
      default: 600,
      description: 'Requests to the payment page one address may make in a minute (generous: customers share addresses behind mobile carriers); one link gets a fifth of it.',
    },
    METRICS_TOKEN: { secret: true, type: 'string', minLength: 16, description: 'Bearer token /metrics requires, when set (at least 16 characters).' },
    TRUST_PROXY: {
      type: 'string',
      pattern: '^(false|[0-9]+|((loopback|linklocal|uniquelocal|[0-9a-fA-F.:/]+)(\\s*,\\s*(loopback|linklocal|uniquelocal|[0-9a-fA-F.:/]+))*))$',
      default: 'false',
      description: 'Whose X-Forwarded-For to believe: a hop count (1 = the proxy in front), or the addresses/subnets of your proxies; false for none.',
    },
  },
  patternProperties: {
    [`^${GATEWAY_URL_PREFIX}[A-Z0-9_]+$`]: { type: 'string', format: 'uri', pattern: '^https?://' },
  },
} as const;

type Properties = typeof configSchema.properties;
/** The settings as validated (defaults applied), named as in the environment. */
type Settings = FromSchema<{ type: 'object'; properties: Properties; additionalProperties: false }>;
/** `GATEWAY_TIMEOUT_MS` -> `gatewayTimeoutMs`. */
type CamelCase<Name extends string> = Name extends `${infer Head}_${infer Tail}` ? `${Lowercase<Head>}${Capitalize<CamelCase<Tail>>}` : Lowercase<Name>;
type Camel<T> = { [Key in keyof T & string as CamelCase<Key>]: T[Key] };

/** Settings whose value the service reshapes after validation. */
interface Derived {
  /** Absolute: the repository's mappings/ by default. */
  mappingsDir: string;
  /** Absolute. */
  dataDir: string;
  gatewayEnv: GatewayEnvironment;
  /** Gateway account ids that may use this deployment; all when absent. */
  allowedAccounts?: ReadonlySet<string>;
  /** Express `trust proxy`: a hop count or the proxies' addresses (never `true`: anyone could pick their address). */
  trustProxy: number | string;
  /** How long a stop waits for requests in flight before cutting connections. */
  shutdownTimeoutMs: number;
  /** GATEWAY_URL_<NAME> variable -> endpoint URL overriding that connector's mapping. */
  gatewayUrls: Record<string, string>;
  /** Absolute: DATA_DIR/api-clients.json by default. */
  apiClientsFile: string;
  /** Absolute: DATA_DIR/console-users.json by default. */
  consoleUsersFile: string;
  /** Origins that may frame the console; empty: none. `'self'` as written. */
  consoleFrameAncestors: string[];
  /** The Twilio payment connectors the console offers, TWILIO_PAYMENT_CONNECTOR first by default. */
  consoleConnectors: string[];
  /**
   * A secret a mapping or a connector names (`env.<VARIABLE>`, CONNECTOR_<NAME>_PASSWORD): the
   * variable itself or the file its <VARIABLE>_FILE names; undefined when neither is set.
   */
  secret: SecretReader;
  /** Countries whose numbers may get link messages: SMS_ALLOWED_COUNTRIES, or MERCHANT_COUNTRY alone. */
  smsAllowedCountries: string[];
  /** Absolute: the repository's templates/sms-link.yaml by default. */
  smsTemplateFile: string;
}

/** The service's configuration: every setting of configSchema, camel-cased, plus the derived ones. */
export type Config = Omit<Camel<Settings>, keyof Derived> & Derived;

/** Reads a secret setting by its variable name. */
export type SecretReader = (variable: string) => string | undefined;

/** Settings that may come from a file (<NAME>_FILE), as Docker and Kubernetes secrets do. */
const SECRET_SETTINGS = Object.entries(configSchema.properties)
  .filter(([, rule]) => 'secret' in rule)
  .map(([name]) => name);

const validateEnv = createAjv({ coerceTypes: true, useDefaults: true, strict: false }).compile(configSchema);

/**
 * Reads and checks the configuration, from the process environment unless told otherwise; a bad
 * value stops start-up with a message naming it.
 */
export function loadConfig(env: Env = processEnvironment()): Config {
  const relevant: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    if (key in configSchema.properties || key.startsWith(GATEWAY_URL_PREFIX)) relevant[key] = value;
  }
  for (const name of SECRET_SETTINGS) {
    const value = readSecretSetting(env, name);
    if (value !== undefined) relevant[name] = value;
  }
  if (relevant.TRUST_PROXY === 'true') {
    throw new ConfigError(
      'Invalid configuration: TRUST_PROXY=true would let any client choose the address its limits are counted by; set the number of proxies in front (TRUST_PROXY=1) or their addresses (TRUST_PROXY=10.0.0.5)',
    );
  }
  if (!validateEnv(relevant)) {
    const problems = (validateEnv.errors ?? []).map((e) => describeAjvError(e).replace(/^\(root\)\.?/, ''));
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  if (relevant.TWILIO_ACCOUNT_SID !== undefined) {
    const missing = ['TWILIO_AUTH_TOKEN', 'PUBLIC_URL'].filter((name) => relevant[name] === undefined);
    if (missing.length > 0) throw new ConfigError(`Invalid configuration: payment sessions (TWILIO_ACCOUNT_SID) need ${missing.join(' and ')}`);
  }
  if (relevant.SMS_MODE === 'log' && relevant.GATEWAY_ENV === 'production') {
    throw new ConfigError('Invalid configuration: SMS_MODE=log writes payment links to the log and is refused with GATEWAY_ENV=production');
  }
  const settings = relevant as unknown as Settings & Record<string, string | number | undefined>;

  const gatewayUrls: Record<string, string> = {};
  const camel: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (key.startsWith(GATEWAY_URL_PREFIX)) gatewayUrls[key] = String(value);
    else camel[camelCase(key)] = value;
  }

  const derived: Derived = {
    mappingsDir: settings.MAPPINGS_DIR ?? path.resolve(__dirname, '..', '..', 'mappings'),
    dataDir: path.resolve(settings.DATA_DIR),
    gatewayEnv: settings.GATEWAY_ENV,
    allowedAccounts: settings.ALLOWED_ACCOUNTS === undefined ? undefined : new Set(settings.ALLOWED_ACCOUNTS.split(/\s*,\s*/)),
    trustProxy: trustProxySetting(settings.TRUST_PROXY),
    shutdownTimeoutMs: settings.SHUTDOWN_TIMEOUT_MS ?? settings.GATEWAY_TIMEOUT_MS + 5000,
    gatewayUrls,
    apiClientsFile: path.resolve(settings.API_CLIENTS_FILE ?? path.join(settings.DATA_DIR, 'api-clients.json')),
    consoleUsersFile: path.resolve(settings.CONSOLE_USERS_FILE ?? path.join(settings.DATA_DIR, 'console-users.json')),
    consoleFrameAncestors: settings.CONSOLE_FRAME_ANCESTORS === "'none'" ? [] : [...new Set(settings.CONSOLE_FRAME_ANCESTORS.split(/[ ,]+/))],
    consoleConnectors: settings.CONSOLE_CONNECTORS === undefined ? [settings.TWILIO_PAYMENT_CONNECTOR] : [...new Set(settings.CONSOLE_CONNECTORS.split(',').map((name) => name.trim()).filter(Boolean))],
    secret: (variable) => readSecretSetting(env, variable),
    smsAllowedCountries: (settings.SMS_ALLOWED_COUNTRIES ?? settings.MERCHANT_COUNTRY).split(','),
    smsTemplateFile: path.resolve(settings.SMS_TEMPLATE_FILE ?? path.resolve(__dirname, '..', '..', 'templates', 'sms-link.yaml')),
  };
  return { ...camel, ...derived } as Config;
}

function camelCase(name: string): string {
  return name.toLowerCase().replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** The connector `authorize-net` is overridden by GATEWAY_URL_AUTHORIZE_NET. */
export function gatewayUrlVariable(name: string): string {
  return GATEWAY_URL_PREFIX + name.toUpperCase().replace(/-/g, '_');
}

/** `false` and `0` trust no proxy; a number trusts that many hops; otherwise a list of addresses. */
function trustProxySetting(value: string): number | string {
  if (value === 'false') return 0;
  return /^[0-9]+$/.test(value) ? Number(value) : value;
}

/**
 * A secret setting: the variable itself, or the file named by <NAME>_FILE (Docker
 * and Kubernetes secrets). Undefined when neither is set. The value is never part
 * of an error message.
 */
function readSecretSetting(env: Env, name: string): string | undefined {
  const direct = env[name];
  if (direct !== undefined && direct !== '') return direct;
  const file = env[`${name}_FILE`];
  if (file === undefined || file === '') return undefined;
  try {
    return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch {
    throw new ConfigError(`Invalid configuration: ${name}_FILE names a file that cannot be read`);
  }
}

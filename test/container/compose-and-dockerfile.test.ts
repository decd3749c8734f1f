import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { configSchema, loadConfig } from '../../src/config/settings';
import { sandboxSettingsSchema } from '../../src/config/tool-settings';
import { PRODUCTION_ENV } from '../../src/bench/production';
import { openApiDocument } from '../../src/http/openapi';
import { contextFiles, copiedFiles, dockerfileInstructions, isExcluded, parseDockerignore, readContext } from '../../docker/build-context';
import { REPO_ROOT } from '../helpers/service';

/**
 * No Docker engine runs here, so the image and compose files are checked against
 * the code they package: ports, variables the configuration accepts, health path,
 * user, volume, signals, the build context .dockerignore leaves, and what .env can change.
 */
const { dockerfile, patterns } = readContext(REPO_ROOT);
const instructions = dockerfileInstructions(dockerfile);
const all = (keyword: string) => instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.rest);
const runStage = instructions.slice(instructions.findIndex((instruction) => instruction.keyword === 'FROM' && instruction.rest.endsWith('AS run')));
const runEnv = Object.fromEntries(
  runStage
    .filter((i) => i.keyword === 'ENV')
    .flatMap((i) => [...i.rest.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map((match) => [match[1]!, match[2]!.replace(/^"|"$/g, '')])),
);

interface Service {
  build?: { context: string; dockerfile: string };
  network_mode?: string;
  depends_on?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  env_file?: Array<{ path: string; required?: boolean }>;
  ports?: string[];
  volumes?: string[];
  stop_grace_period?: string;
  image?: string;
  profiles?: string[];
  healthcheck?: { test: string[] };
}
// Compose resolves YAML merge keys (<<: *bridge), so the test does too.
const compose = parse(fs.readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const bridgeServices = Object.entries(services).filter(([name, service]) => service.image?.startsWith('pay-connector-bridge') && name !== 'sandbox');
const envExample = fs.readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8');

const accepted = (name: string) =>
  name in configSchema.properties ||
  /^GATEWAY_URL_[A-Z0-9_]+$/.test(name) ||
  /^CONNECTOR_[A-Z0-9_]+_(USERNAME|PASSWORD)$/.test(name) ||
  /^GATEWAY_CREDENTIALS_[A-Z0-9_]+_(USERNAME|PASSWORD)(_FILE)?$/.test(name);

/** Compose's interpolation of one value from .env (or the shell): ${VAR}, ${VAR:-default}, ${VAR-default}. */
function interpolate(value: string, dotenv: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$/g, (whole, name: string | undefined, operator: string | undefined, fallback: string | undefined) => {
    if (name === undefined) throw new Error(`docker-compose.yml: a bare $ in "${value}" (write $$)`);
    const set = dotenv[name];
    if (operator === ':-') return set === undefined || set === '' ? fallback! : set;
    if (operator === '-') return set === undefined ? fallback! : set;
    if (whole !== `\${${name}}`) throw new Error(`docker-compose.yml: an interpolation this test does not model: ${whole}`);
    return set ?? '';
  });
}

/** The environment a container of the service gets with this .env: env_file first, `environment:` over it. */
function containerEnv(service: Service, dotenv: Record<string, string> = {}): Record<string, string> {
  const fromFile = service.env_file?.some((file) => file.path === '.env') ? dotenv : {};
  const fromCompose = Object.fromEntries(Object.entries(service.environment ?? {}).map(([name, value]) => [name, interpolate(String(value), dotenv)]));
  return { ...fromFile, ...fromCompose };
}

/** Variables compose pins whatever .env says: literal values in `environment:`. */
const pinned = (service: Service) => Object.entries(service.environment ?? {}).filter(([, value]) => !String(value).includes('${')).map(([name]) => name);
const documentedFixed = [...envExample.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=.*compose: fixed/gm)].map((match) => match[1]!);
/** What the standalone sandbox gateway reads: its settings schema. */
const sandboxReads = Object.keys(sandboxSettingsSchema.properties);

describe('Dockerfile', () => {
  test('when the base images are read, then both stages use one Node 20 slim image pinned to a full version', () => {
    const bases = all('FROM').map((rest) => rest.split(' ')[0]);
    expect(bases).toHaveLength(2);
    for (const base of bases) expect(base).toMatch(/^node:20\.\d+\.\d+-bookworm-slim$/);
  });

  test('when the image runs, then it is production, non-root, on the port and data folder the service uses', () => {
    expect(runEnv.NODE_ENV).toBe('production');
    expect(all('USER').at(-1)).toBe('node');
    expect(all('EXPOSE')).toEqual([runEnv.PORT]);
    for (const name of Object.keys(runEnv).filter((key) => !['NODE_ENV', 'NODE_OPTIONS', 'MALLOC_ARENA_MAX'].includes(key))) expect(accepted(name)).toBe(true);
  });

  test('when the volume is declared, then it is DATA_DIR, and the USER owns it before the declaration freezes it', () => {
    const volumeAt = runStage.findIndex((i) => i.keyword === 'VOLUME');
    expect(volumeAt).toBeGreaterThan(0);
    const volume = runStage[volumeAt]!.rest;
    const paths = volume.startsWith('[') ? (JSON.parse(volume) as string[]) : volume.split(/\s+/);
    expect(paths).toEqual([runEnv.DATA_DIR]);

    const user = runStage.filter((i) => i.keyword === 'USER').at(-1)!.rest.split(':')[0]!;
    const dataDir = runEnv.DATA_DIR!.replace(/[/.]/g, '\\$&');
    const chown = new RegExp(`\\bchown\\s+(-R\\s+)?${user}(:[\\w-]+)?\\s+(\\S+\\s+)*${dataDir}(\\s|$)`);
    const chownAt = runStage.findIndex((i) => i.keyword === 'RUN' && chown.test(i.rest));
    expect({ chownedToUser: chownAt >= 0, beforeVolume: chownAt >= 0 && chownAt < volumeAt }).toEqual({ chownedToUser: true, beforeVolume: true });
    // A build step that changes the volume after VOLUME is discarded.
    const touchingAfter = runStage.slice(volumeAt + 1).filter((i) => i.keyword === 'RUN' && i.rest.includes(runEnv.DATA_DIR!));
    expect(touchingAfter).toEqual([]);
  });

  test('when the image sets V8 and malloc options, then they are the ones the benchmarks measured', () => {
    expect({ NODE_ENV: runEnv.NODE_ENV, NODE_OPTIONS: runEnv.NODE_OPTIONS, MALLOC_ARENA_MAX: runEnv.MALLOC_ARENA_MAX }).toEqual(PRODUCTION_ENV);
  });

  test('when its health is checked, then the check calls the liveness endpoint the service serves', () => {
    const [check] = all('HEALTHCHECK');
    expect(check).toContain("'/healthz'");
    expect(Object.keys(openApiDocument({ transactionsApi: false }).paths)).toContain('/healthz');
  });

  test('when it is stopped, then SIGTERM starts the graceful shutdown', () => {
    expect(all('STOPSIGNAL')).toEqual(['SIGTERM']);
    expect(all('CMD').at(-1)).toBe('["node", "--enable-source-maps", "dist/main.js"]');
  });

  test('when files are copied in, then every COPY source is in the build context .dockerignore leaves, with no tests or secrets', () => {
    // Throws, as docker build fails, for a source that is missing or excluded.
    const copied = copiedFiles(REPO_ROOT, dockerfile, patterns);
    for (const [source, files] of copied) {
      expect({ source, exists: fs.existsSync(path.join(REPO_ROOT, source)), excluded: isExcluded(source, patterns) }).toEqual({ source, exists: true, excluded: false });
      expect(files.length).toBeGreaterThan(0);
    }
    const files = [...copied.values()].flat();
    expect(files.filter((file) => /^(test|data|docs|\.env|\.git|node_modules|dist)(\/|$)/.test(file) || /\.(pem|key|sqlite)$/.test(file))).toEqual([]);
    for (const entry of ['node_modules', 'test', '.env', '.env.*', 'data', '.git']) expect(patterns.map((p) => p.pattern)).toContain(entry);
  });

  test('when the build stage compiles, then the developer tools are not in the image and everything else still compiles', () => {
    const compiled = copiedFiles(REPO_ROOT, dockerfile, patterns).get('src') ?? [];
    expect(compiled).toContain('src/main.ts');
    const devOnly = compiled.filter((file) => /^src\/(bench|simulator)\//.test(file) || file === 'src/cli/bench-journal.ts');
    expect(devOnly).toEqual([]);
    // tsc would fail on an import of a file left out of the context.
    const present = new Set(compiled);
    const missing: string[] = [];
    for (const file of compiled.filter((name) => name.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
      for (const [, specifier] of text.matchAll(/(?:from|import\(|require\()\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = path.posix.join(path.posix.dirname(file), specifier!);
        if (![`${target}.ts`, `${target}/index.ts`, target].some((candidate) => present.has(candidate))) missing.push(`${file} -> ${specifier}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('when the developer tools are run in the repository, then the build still compiles them (npm run bench, bench:journal, simulator)', () => {
    const build = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as { include?: string[]; exclude?: string[] };
    expect(build.include).toEqual(['src']);
    expect(build.exclude ?? []).toEqual([]);
    const scripts = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['bench', 'bench:journal', 'simulator']) {
      expect(scripts[`pre${name}`]).toMatch(/npm run build/);
      const [, entry] = /node (dist\/\S+)\.js/.exec(scripts[name]!)!;
      expect(fs.existsSync(path.join(REPO_ROOT, `${entry!.replace(/^dist/, 'src')}.ts`))).toBe(true);
    }
  });

  test('when a command in the Dockerfile or the compose file runs compiled code, then its source enters the image (no tsc there: node dist/..., not npm run)', () => {
    const copied = new Set([...copiedFiles(REPO_ROOT, dockerfile, patterns).values()].flat());
    // The demo profile's image is another one (checked below): only what runs the production image here.
    const productionCommands = Object.values(services)
      .filter((service) => service.image?.startsWith('pay-connector-bridge'))
      .map((service) => JSON.stringify(service.command ?? []));
    const entries = [...`${dockerfile}\n${productionCommands.join('\n')}`.matchAll(/\bdist\/([\w/-]+)\.js\b/g)].map((match) => `src/${match[1]}.ts`);
    // The service, the sandbox container, and the journal CLI an operator runs with docker compose exec.
    expect(entries).toEqual(expect.arrayContaining(['src/main.ts', 'src/sandbox/main.ts', 'src/cli/journal.ts']));
    for (const entry of entries) expect({ entry, inImage: copied.has(entry) }).toEqual({ entry, inImage: true });
    const commands = [all('CMD').at(-1)!, ...Object.values(services).flatMap((service) => (service.command ? [service.command.join(' ')] : []))];
    for (const command of commands) expect(command).not.toMatch(/\bnpm\b/);
  });
});

describe('.dockerignore matching', () => {
  const cases: Array<[string, string, boolean]> = [
    ['/dist', 'dist/main.js', true],
    ['/dist', 'src/dist/main.js', false],
    ['dist/', 'dist/main.js', true],
    ['*.log', 'npm-debug.log', true],
    ['*.log', 'logs/npm-debug.log', false],
    ['**/*.log', 'logs/deep/npm-debug.log', true],
    ['**/*.log', 'npm-debug.log', true],
    ['src/**/fixtures', 'src/fixtures/a.json', true],
    ['src/**/fixtures', 'src/a/b/fixtures/a.json', true],
    ['src/**', 'src/main.ts', true],
    ['src/b?nch', 'src/bench/bench.ts', true],
    ['src/*.ts', 'src/cli/journal.ts', false],
    ['.env.*', '.env.local', true],
    ['.env.*', '.envrc', false],
    ['test\n!test/keep.ts', 'test/keep.ts', false],
    ['test\n!test/keep.ts', 'test/other.ts', true],
    ['!a.txt\na.txt', 'a.txt', true],
    ['# a comment\n\n  secret.txt  ', 'secret.txt', true],
    ['src/[ab]*', 'src/bench/x.ts', true],
    ['src/[!ab]*', 'src/bench/x.ts', false],
  ];
  test.each(cases)('when .dockerignore is %j, then %s is excluded: %s', (text, file, excluded) => {
    expect(isExcluded(file, parseDockerignore(text))).toBe(excluded);
  });

  test('when a COPY source is excluded by .dockerignore or missing, then the context check fails as docker build does', () => {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'context-'));
    fs.mkdirSync(path.join(repo, 'src', 'bench'), { recursive: true });
    fs.writeFileSync(path.join(repo, 'src', 'main.ts'), '');
    fs.writeFileSync(path.join(repo, 'src', 'bench', 'bench.ts'), '');
    fs.writeFileSync(path.join(repo, 'secret.txt'), '');
    const ignore = parseDockerignore('/secret.txt\nsrc/bench\n');
    expect(contextFiles(repo, ignore)).toEqual(['src/main.ts']);
    expect([...copiedFiles(repo, 'FROM x\nCOPY src ./src\n', ignore).get('src')!]).toEqual(['src/main.ts']);
    expect(() => copiedFiles(repo, 'FROM x\nCOPY secret.txt ./\n', ignore)).toThrow('COPY secret.txt: is excluded by .dockerignore');
    expect(() => copiedFiles(repo, 'FROM x\nCOPY --chown=node:node absent.json ./\n', ignore)).toThrow('COPY absent.json: does not exist');
    expect(copiedFiles(repo, 'FROM x\nCOPY --from=build /app/secret.txt ./\n', ignore).size).toBe(0);
    fs.rmSync(repo, { recursive: true, force: true });
  });
});

describe('docker-compose.yml', () => {
  const sandbox = services.sandbox!;
  const sandboxEnv = containerEnv(sandbox);
  const sandboxUrl = `http://sandbox:${sandboxEnv.SANDBOX_PORT}/api/qsapi/3.8`;

  test('when the quick start runs with no .env, then the service talks to the sandbox container and keeps its journal on the image volume', () => {
    const bridge = services.bridge!;
    expect(containerEnv(bridge)).toEqual({ PORT: runEnv.PORT, HOST: '0.0.0.0', DATA_DIR: runEnv.DATA_DIR, GATEWAY_ENV: 'sandbox', GATEWAY_URL_PAYCONEX: sandboxUrl });
    expect(bridge.ports).toEqual([`8080:${runEnv.PORT}`]);
    expect(bridge.volumes).toEqual([`bridge-data:${runEnv.DATA_DIR}`]);
    const config = loadConfig({ ...containerEnv(bridge), MAPPINGS_DIR: path.join(REPO_ROOT, 'mappings') });
    expect(config.gatewayUrls).toEqual({ GATEWAY_URL_PAYCONEX: sandboxUrl });
    expect(sandbox.command).toEqual(['node', 'dist/sandbox/main.js']);
    expect(sandbox.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${sandboxEnv.SANDBOX_PORT}/healthz`);
  });

  test('when .env sets a setting a merchant may change, then it reaches every bridge container (environment: would otherwise hide it)', () => {
    const changeable = [...Object.keys(configSchema.properties), 'GATEWAY_URL_PAYCONEX', 'CONNECTOR_PAYCONEX_USERNAME'].filter((name) => !documentedFixed.includes(name));
    const dotenv = Object.fromEntries(changeable.map((name) => [name, `${name.toLowerCase()}-from-dotenv`]));
    for (const [name, service] of bridgeServices) {
      const env = containerEnv(service, dotenv);
      for (const variable of changeable) expect({ service: name, variable, value: env[variable] }).toEqual({ service: name, variable, value: dotenv[variable] });
    }
  });

  test('when .env sets what compose pins, then the containers keep the pinned values, and .env.example says they are fixed', () => {
    const dotenv = { PORT: '9999', HOST: '127.0.0.1', DATA_DIR: './data', SANDBOX_PORT: '9100', SANDBOX_HOST: '127.0.0.1' };
    for (const [name, service] of bridgeServices) {
      expect({ service: name, ...containerEnv(service, dotenv) }).toMatchObject({ service: name, PORT: runEnv.PORT, HOST: '0.0.0.0', DATA_DIR: runEnv.DATA_DIR });
    }
    expect(containerEnv(sandbox, dotenv)).toEqual(sandboxEnv);
    // Everything the sandbox reads is pinned: the bridges' default URL and its health check use it.
    expect(sandboxReads.sort()).toEqual(Object.keys(sandbox.environment ?? {}).sort());
    const pinnedNames = new Set([...bridgeServices.flatMap(([, service]) => pinned(service)), ...pinned(sandbox)]);
    expect([...pinnedNames].sort()).toEqual([...documentedFixed].sort());
  });

  test('when .env leaves GATEWAY_URL_PAYCONEX empty, then the mapping endpoint is used; an empty DATABASE_URL keeps the replicas on the shared PostgreSQL', () => {
    const env = containerEnv(services.bridge!, { GATEWAY_URL_PAYCONEX: '', GATEWAY_ENV: 'certification' });
    expect(loadConfig({ ...env, MAPPINGS_DIR: path.join(REPO_ROOT, 'mappings') }).gatewayUrls).toEqual({});
    for (const name of ['bridge-a', 'bridge-b']) expect(containerEnv(services[name]!, { DATABASE_URL: '' }).DATABASE_URL).toMatch(/@postgres:5432\//);
  });

  test('when services are configured, then every bridge reads .env and every variable set is one the configuration accepts', () => {
    for (const [name, service] of bridgeServices) {
      expect({ service: name, env_file: service.env_file }).toEqual({ service: name, env_file: [{ path: '.env', required: false }] });
    }
    for (const [name, service] of Object.entries(services)) {
      if (!service.image?.startsWith('pay-connector-bridge')) continue;
      for (const variable of Object.keys(service.environment ?? {})) {
        expect({ service: name, variable, accepted: accepted(variable) || (name === 'sandbox' && sandboxReads.includes(variable)) }).toMatchObject({ accepted: true });
      }
    }
  });

  test('when the replicas profile runs, then two replicas share PostgreSQL behind the balancer, trusting it', () => {
    for (const name of ['bridge-a', 'bridge-b']) {
      const replica = services[name]!;
      expect(replica.profiles).toEqual(['replicas']);
      expect(containerEnv(replica)).toMatchObject({ DATABASE_URL: 'postgres://paybridge:paybridge@postgres:5432/paybridge', TRUST_PROXY: '1', GATEWAY_URL_PAYCONEX: sandboxUrl });
    }
    expect(services.postgres?.profiles).toEqual(['replicas']);
    const nginx = fs.readFileSync(path.join(REPO_ROOT, 'docker', 'nginx.conf'), 'utf8');
    expect(nginx).toContain(`server bridge-a:${containerEnv(services['bridge-a']!).PORT};`);
    expect(nginx).toContain(`server bridge-b:${containerEnv(services['bridge-b']!).PORT};`);
    // Paths that carry a bearer link's token are kept out of the balancer's access log.
    expect(nginx).toMatch(/location \^~ \/twilio\/ivr\/ \{\s*access_log off;/);
  });

  test('when a replica is stopped, then it has longer than the default shutdown timeout to finish', () => {
    const defaultShutdownSeconds = (configSchema.properties.GATEWAY_TIMEOUT_MS.default + 5000) / 1000;
    for (const name of ['bridge', 'bridge-a', 'bridge-b']) {
      expect(Number.parseInt(services[name]!.stop_grace_period ?? '10s', 10)).toBeGreaterThan(defaultShutdownSeconds);
    }
  });
});

test('when .env.example is read, then it documents every setting and only settings the service accepts', () => {
  const named = [...envExample.matchAll(/^#?\s*([A-Z][A-Z0-9_<>]*)=/gm)].map((match) => match[1]!.replace('<NAME>', 'PAYCONEX'));
  for (const name of named) expect({ name, accepted: accepted(name) || sandboxReads.includes(name) }).toEqual({ name, accepted: true });
  for (const name of Object.keys(configSchema.properties)) expect(named).toContain(name);
  for (const name of sandboxReads) expect(named).toContain(name);
});

describe('the demo profile (docker compose --profile demo up)', () => {
  const demo = readContext(REPO_ROOT, 'docker/demo.Dockerfile');
  const demoFiles = new Set([...copiedFiles(REPO_ROOT, demo.dockerfile, demo.patterns).values()].flat());
  const demoServices = Object.entries(services).filter(([, service]) => service.profiles?.includes('demo'));
  const bridge = services['bridge-demo']!;
  const simulator = services.simulator!;
  const bridgeEnv = bridge.environment!;
  const simulatorEnv = simulator.environment!;

  test('when the demo runs, then a service with payment sessions and the simulator come up from the demo image, which is not the production one', () => {
    expect(demoServices.map(([name]) => name).sort()).toEqual(['bridge-demo', 'simulator']);
    expect(bridge.build).toEqual({ context: '.', dockerfile: 'docker/demo.Dockerfile' });
    expect(new Set(demoServices.map(([, service]) => service.image))).toEqual(new Set(['paybridge-demo:local']));
    // The production image still leaves the simulator out; the demo image has it.
    expect([...copiedFiles(REPO_ROOT, dockerfile, patterns).values()].flat().filter((file) => file.startsWith('src/simulator/'))).toEqual([]);
    expect(demoFiles.has('src/simulator/main.ts')).toBe(true);
    for (const [name, service] of demoServices) {
      const command = service.command?.join(' ') ?? JSON.parse(dockerfileInstructions(demo.dockerfile).filter((i) => i.keyword === 'CMD').at(-1)!.rest).join(' ');
      for (const [, entry] of command.matchAll(/\bdist\/([\w/-]+)\.js\b/g)) expect({ name, entry, inImage: demoFiles.has(`src/${entry}.ts`) }).toEqual({ name, entry, inImage: true });
      expect(command).not.toMatch(/\bnpm\b/);
    }
    // Its demo agent is made at build time by the CLI the image carries.
    expect(demo.dockerfile).toMatch(/node dist\/cli\/console-user\.js add agent/);
    expect(demoFiles.has('src/cli/console-user.ts')).toBe(true);
    expect(demoFiles.has('docker/demo-connectors.json')).toBe(true);
    expect(demo.dockerfile).toMatch(/^USER node$/m);
  });

  test("when the demo's service starts, then its settings are valid, sessions are on, Twilio is the simulator, and PUBLIC_URL is the one port published for the browser", () => {
    for (const name of Object.keys(bridgeEnv)) expect({ name, accepted: accepted(name) }).toEqual({ name, accepted: true });
    const config = loadConfig({ ...bridgeEnv, DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'demo-')) });
    expect(config.twilioAccountSid).toMatch(/^AC/);
    const publicUrl = new URL(config.publicUrl!);
    expect(bridge.ports).toContain(`127.0.0.1:${publicUrl.port}:${config.port}`);
    expect(publicUrl.hostname).toBe('127.0.0.1');
    // The simulator lives in the service's network: the same 127.0.0.1, and its port published by the service.
    expect(simulator.network_mode).toBe('service:bridge-demo');
    expect(config.twilioApiBase).toBe(`http://127.0.0.1:${simulatorEnv.SIMULATOR_PORT}`);
    expect(bridge.ports).toContain(`127.0.0.1:${simulatorEnv.SIMULATOR_PORT}:${simulatorEnv.SIMULATOR_PORT}`);
    expect(simulatorEnv.SIMULATOR_AUTH_TOKEN).toBe(config.twilioAuthToken);
    // Twilio's Default connector (the simulator's) is this service, with the sandbox's test account.
    const connectors = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'docker', 'demo-connectors.json'), 'utf8')) as Record<string, { url: string }>;
    expect(simulatorEnv.SIMULATOR_CONNECTORS).toBe('/app/demo/connectors.json');
    expect(connectors.Default!.url).toBe(`${config.publicUrl}/`);
    expect(bridgeEnv.CONSOLE_USERS_FILE).toBe('/app/demo/console-users.json');
    expect(demo.dockerfile).toContain('CONSOLE_USERS_FILE=/app/demo/console-users.json');
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { configSchema } from '../../src/config';
import { PRODUCTION_NODE_OPTIONS } from '../../src/bench/production';
import { openApiDocument } from '../../src/http/openapi';
import { REPO_ROOT } from '../helpers/service';

/**
 * No Docker engine runs here, so the image and compose files are checked against
 * the code they package: ports, variables the configuration accepts, health path,
 * user, volume, signals.
 */
const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
// Compose resolves YAML merge keys (<<: *bridge), so the test does too.
const compose = parse(fs.readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { command?: string[]; environment?: Record<string, string>; ports?: string[]; volumes?: string[]; stop_grace_period?: string; image?: string; profiles?: string[] }>;
};
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .filter((line) => /^[A-Z]+ /.test(line))
  .map((line) => ({ keyword: line.split(' ')[0]!, rest: line.slice(line.indexOf(' ') + 1).trim() }));
const all = (keyword: string) => instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.rest);
const runStage = instructions.slice(instructions.findIndex((instruction) => instruction.keyword === 'FROM' && instruction.rest.endsWith('AS run')));
const runEnv = Object.fromEntries(
  runStage
    .filter((i) => i.keyword === 'ENV')
    .flatMap((i) => [...i.rest.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map((match) => [match[1]!, match[2]!.replace(/^"|"$/g, '')])),
);

const accepted = (name: string) =>
  name in configSchema.properties || /^GATEWAY_URL_[A-Z0-9_]+$/.test(name) || /^CONNECTOR_[A-Z0-9_]+_(USERNAME|PASSWORD)$/.test(name);

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
    expect(all('VOLUME')).toEqual([`["${runEnv.DATA_DIR}"]`]);
    for (const name of Object.keys(runEnv).filter((key) => !['NODE_ENV', 'NODE_OPTIONS'].includes(key))) expect(accepted(name)).toBe(true);
  });

  test('when the image sets V8 options, then they are the ones the benchmark measured', () => {
    expect(runEnv.NODE_OPTIONS).toBe(PRODUCTION_NODE_OPTIONS);
  });

  test('when its health is checked, then the check calls the liveness endpoint the service serves', () => {
    const [check] = all('HEALTHCHECK');
    expect(check).toContain("'/healthz'");
    expect(Object.keys(openApiDocument().paths)).toContain('/healthz');
  });

  test('when it is stopped, then SIGTERM starts the graceful shutdown', () => {
    expect(all('STOPSIGNAL')).toEqual(['SIGTERM']);
    expect(all('CMD').at(-1)).toBe('["node", "--enable-source-maps", "dist/main.js"]');
    expect(fs.existsSync(path.join(REPO_ROOT, 'src', 'main.ts'))).toBe(true);
  });

  test('when files are copied in, then they exist and neither tests nor secrets are among them', () => {
    const copied = all('COPY')
      .filter((rest) => !rest.startsWith('--from'))
      .flatMap((rest) => rest.split(/\s+/).slice(0, -1));
    for (const source of copied) expect(fs.existsSync(path.join(REPO_ROOT, source))).toBe(true);
    expect(copied.some((source) => /^(test|\.env|data|docs)/.test(source))).toBe(false);
    const ignored = fs.readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', 'test', '.env', '.env.*', 'data', '.git']) expect(ignored).toContain(entry);
  });
});

describe('docker-compose.yml', () => {
  const services = compose.services;

  test('when the quick start runs, then the service talks to the sandbox container and keeps its journal on the image volume', () => {
    const bridge = services.bridge!;
    const sandbox = services.sandbox!;
    expect(bridge.ports).toEqual([`8080:${runEnv.PORT}`]);
    expect(bridge.environment?.GATEWAY_URL_PAYCONEX).toBe(`http://sandbox:${sandbox.environment?.SANDBOX_PORT}/api/qsapi/3.8`);
    expect(bridge.volumes).toEqual([`bridge-data:${runEnv.DATA_DIR}`]);
    expect(sandbox.command).toEqual(['node', 'dist/sandbox/main.js']);
    expect(fs.existsSync(path.join(REPO_ROOT, 'src', 'sandbox', 'main.ts'))).toBe(true);
  });

  test('when services are configured, then every variable they set is one the configuration accepts', () => {
    for (const [name, service] of Object.entries(services)) {
      if (!service.image?.startsWith('pay-connector-bridge')) continue;
      for (const variable of Object.keys(service.environment ?? {})) {
        expect({ service: name, variable, accepted: accepted(variable) || (name === 'sandbox' && variable.startsWith('SANDBOX_')) }).toMatchObject({ accepted: true });
      }
    }
  });

  test('when the replicas profile runs, then two replicas share PostgreSQL behind the balancer', () => {
    const replicas = ['bridge-a', 'bridge-b'].map((name) => services[name]!);
    for (const replica of replicas) {
      expect(replica.profiles).toEqual(['replicas']);
      expect(replica.environment?.DATABASE_URL).toMatch(/^postgres:\/\/paybridge:paybridge@postgres:5432\/paybridge$/);
    }
    expect(services.postgres?.profiles).toEqual(['replicas']);
    const nginx = fs.readFileSync(path.join(REPO_ROOT, 'docker', 'nginx.conf'), 'utf8');
    expect(nginx).toContain(`server bridge-a:${runEnv.PORT};`);
    expect(nginx).toContain(`server bridge-b:${runEnv.PORT};`);
  });

  test('when a replica is stopped, then it has longer than the default shutdown timeout to finish', () => {
    const defaultShutdownSeconds = (configSchema.properties.GATEWAY_TIMEOUT_MS.default + 5000) / 1000;
    for (const name of ['bridge', 'bridge-a', 'bridge-b']) {
      expect(Number.parseInt(services[name]!.stop_grace_period ?? '10s', 10)).toBeGreaterThan(defaultShutdownSeconds);
    }
  });
});

test('when .env.example is read, then it documents every setting and only settings the service accepts', () => {
  const example = fs.readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8');
  const named = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_<>]*)=/gm)].map((match) => match[1]!.replace('<NAME>', 'PAYCONEX'));
  for (const name of named) expect({ name, accepted: accepted(name) || name.startsWith('SANDBOX_') }).toEqual({ name, accepted: true });
  for (const name of Object.keys(configSchema.properties)) expect(named).toContain(name);
});

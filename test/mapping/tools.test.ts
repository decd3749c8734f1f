import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { featureTable } from '../../src/mapping/features';
import { loadMappingFolder } from '../../src/mapping/load';
import { mappingFolder, minimalMapping, payconexMappingText } from '../helpers/mapping-files';
import { REPO_ROOT } from '../helpers/service';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'mappings.js');

test('when the README shows the feature table, then it is the one generated from the mapping files', () => {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const shown = /<!-- feature-table:start -->\n([\s\S]*?)\n<!-- feature-table:end -->/.exec(readme)?.[1];
  expect(shown).toBe(featureTable(loadMappingFolder(path.join(REPO_ROOT, 'mappings'))));
});

test('when every shipped mapping file is checked, then each is ok', async () => {
  const { stdout } = await run(process.execPath, [CLI, 'check']);
  expect(stdout.trim().split('\n').sort()).toEqual(
    ['authorize-net', 'cardconnect', 'nmi', 'payconex'].map((name) => `ok    mappings/${name}.yaml`),
  );
});

type Outcome = { code: number; stdout: string; stderr: string };
const check = (args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Outcome> =>
  run(process.execPath, [CLI, 'check', ...args], { cwd: options.cwd, env: { ...process.env, ...options.env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: Outcome) => error,
  );

test('when a broken mapping file is checked, then it exits 1 naming the file, line and path, and only the real typo', async () => {
  const folder = mappingFolder({ 'payconex.yaml': payconexMappingText().replace('equals: true', 'equls: true') });
  const outcome = await check([path.join(folder, 'payconex.yaml')]);
  expect(outcome.code).toBe(1);
  // Not also `unknown key "path"`: that comes from the all/any/not branches of a condition, which do not apply.
  expect(outcome.stdout).toMatch(/^error .*payconex\.yaml:\d+:\d+: at response\.success\.charge: unknown key "equls"\n$/);
});

test('when a folder holds two broken files and a good one, then each is reported and the check exits 1', async () => {
  const joinTypo = fs
    .readFileSync(path.join(REPO_ROOT, 'mappings', 'authorize-net.yaml'), 'utf8')
    .replace("separator: '/' }", "separatr: '/' }");
  const folder = mappingFolder({
    'authorize-net.yaml': joinTypo,
    'nmi.yaml': fs.readFileSync(path.join(REPO_ROOT, 'mappings', 'nmi.yaml'), 'utf8'),
    'payconex.yaml': payconexMappingText().replace('equals: true', 'equls: true'),
  });
  const outcome = await check([], { env: { MAPPINGS_DIR: folder } });
  expect(outcome.code).toBe(1);
  const lines = outcome.stdout.trim().split('\n');
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(/^error .*authorize-net\.yaml:\d+:\d+: at response\.id\.tokenize: unknown key "separatr"$/);
  expect(lines[1]).toMatch(/^ok {4}.*nmi\.yaml$/);
  expect(lines[2]).toMatch(/^error .*payconex\.yaml:\d+:\d+: at response\.success\.charge: unknown key "equls"$/);
});

test('when files are named and one of them is broken, then the others are still checked', async () => {
  const folder = mappingFolder({ 'payconex.yaml': payconexMappingText().replace('format: decimal', 'format: dollars') });
  const outcome = await check([path.join(folder, 'payconex.yaml'), path.join(REPO_ROOT, 'mappings', 'nmi.yaml')]);
  expect(outcome.code).toBe(1);
  expect(outcome.stdout).toMatch(/^error .*payconex\.yaml:\d+:\d+: at request\.fields\.transaction_amount\.format: must be one of "decimal", "minor-units", "upper", "lower"\nok {4}.*nmi\.yaml\n$/);
});

test('when the folder holds a YAML and a JSON file of the same name, then the second is reported', async () => {
  const folder = mappingFolder({ 'testgw.yaml': minimalMapping(), 'testgw.json': JSON.stringify(minimalMapping()) });
  const outcome = await check([], { env: { MAPPINGS_DIR: folder } });
  expect(outcome.code).toBe(1);
  expect(outcome.stdout).toMatch(/^ok {4}.*testgw\.json\nerror .*testgw\.yaml: name "testgw" is also used by .*testgw\.json\n$/);
});

test('when the guide quotes a mappings:check error, then it is exactly what the tool prints for that mistake', async () => {
  const guide = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'adding-a-gateway.md'), 'utf8');
  const mapping = /```yaml\n# mappings\/acmepay\.yaml\n([\s\S]*?)```/.exec(guide)![1]!;
  const [, right, wrong, field] = /Misspell `(\w+)` as `(\w+)` on the `([\w.]+)` line/.exec(guide)!;
  const quoted = /```\n(error mappings\/acmepay\.yaml:.*)\n```/.exec(guide)![1]!;

  const lines = mapping.split('\n');
  const index = lines.findIndex((line) => line.trimStart().startsWith(`${field}:`));
  expect(lines[index]).toContain(`${right}:`);
  lines[index] = lines[index]!.replace(`${right}:`, `${wrong}:`);
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'guide-check-'));
  fs.mkdirSync(path.join(project, 'mappings'));
  fs.writeFileSync(path.join(project, 'mappings', 'acmepay.yaml'), `# mappings/acmepay.yaml\n${lines.join('\n')}`);

  const outcome = await check(['mappings/acmepay.yaml'], { cwd: project });
  expect(outcome.code).toBe(1);
  expect(outcome.stdout).toBe(`${quoted}\n`);
});

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { featureTable } from '../../src/mapping/features';
import { loadMappingFolder } from '../../src/mapping/load';
import { mappingFolder, payconexMappingText } from '../helpers/mapping-files';
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

test('when a broken mapping file is checked, then it exits 1 naming the file, line and path', async () => {
  const folder = mappingFolder({ 'payconex.yaml': payconexMappingText().replace('equals: true', 'equls: true') });
  const outcome = await run(process.execPath, [CLI, 'check', path.join(folder, 'payconex.yaml')]).catch((error: { code: number; stdout: string }) => error);
  expect(outcome).toMatchObject({ code: 1 });
  expect((outcome as { stdout: string }).stdout).toMatch(/^error .*payconex\.yaml:\d+:\d+: at response\.success\.charge: unknown key "equls"/);
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { describeFixtureFile, type FixtureFile } from '../helpers/fixture-runner';
import { REPO_ROOT } from '../helpers/service';

/**
 * docs/adding-a-gateway.md, tried the way a new user would: its mapping file and
 * fixture file, exactly as printed, are added next to the shipped mappings and run
 * through the shared fixture runner.
 */
const guide = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'adding-a-gateway.md'), 'utf8');
const blocks = [...guide.matchAll(/```yaml\n# (\S+)\n([\s\S]*?)```/g)].map((match) => ({ file: match[1]!, text: match[2]! }));
const mapping = blocks.find((block) => block.file.startsWith('mappings/'));
const fixture = blocks.find((block) => block.file.startsWith('test/fixtures/gateways/'));

test('when the guide is read, then it prints a mapping file and a fixture file', () => {
  expect(mapping?.file).toBe('mappings/acmepay.yaml');
  expect(fixture?.file).toBe('test/fixtures/gateways/acmepay.yaml');
  expect((parse(fixture!.text) as FixtureFile).cases.length).toBeGreaterThanOrEqual(6);
});

const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'guide-mappings-'));
for (const shipped of fs.readdirSync(path.join(REPO_ROOT, 'mappings'))) {
  fs.copyFileSync(path.join(REPO_ROOT, 'mappings', shipped), path.join(folder, shipped));
}
fs.writeFileSync(path.join(folder, 'acmepay.yaml'), mapping!.text);
describeFixtureFile('the guide’s AcmePay fixtures', parse(fixture!.text) as FixtureFile, { MAPPINGS_DIR: folder });

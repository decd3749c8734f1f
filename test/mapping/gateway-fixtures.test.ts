import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describeFixtureFile, type FixtureFile } from '../helpers/fixture-runner';

/** One fixture file per gateway mapping (test/fixtures/gateways/<connector>.yaml), one shared runner. */
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'gateways');

for (const file of fs.readdirSync(FIXTURES).filter((name) => name.endsWith('.yaml'))) {
  describeFixtureFile(`gateway fixtures ${file}`, parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as FixtureFile);
}

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/service';

/** No Docker engine here: scripts/container-smoke.sh performs the image's build and run steps instead. */
test('when the image is built and run in a clean folder, then it installs from the lock file, is healthy, charges and stops cleanly', async () => {
  const { stdout } = await promisify(execFile)('bash', [path.join(REPO_ROOT, 'scripts', 'container-smoke.sh')], { maxBuffer: 16 * 1024 * 1024 });
  expect(stdout).toContain('one sandbox charge');
  expect(stdout.trim().split('\n').at(-1)).toBe('container smoke: ok');
}, 600_000);

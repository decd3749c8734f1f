import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT, startService, temporaryDataDir, type TestService } from '../helpers/service';
import { runEveryFlow } from '../helpers/flows';
import { expectNoSecrets } from '../helpers/leaks';

/**
 * assert_scrubbed, the way ActiveMerchant does it: run every flow at the most
 * verbose log level, capture everything the service wrote, and search it for the
 * test card, CVV, bank, routing and key values in every encoding they could take.
 */
describe('no card data in any output', () => {
  test('when every flow runs in-process at LOG_LEVEL=silly, then no log line, console write or answer holds a secret', async () => {
    const captured: string[] = [];
    const originalStdout = process.stdout.write.bind(process.stdout);
    const originalStderr = process.stderr.write.bind(process.stderr);
    const capture = (original: typeof process.stdout.write) =>
      ((chunk: unknown, ...rest: unknown[]) => {
        captured.push(String(chunk));
        return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof process.stdout.write;
    process.stdout.write = capture(originalStdout);
    process.stderr.write = capture(originalStderr);

    let service: TestService | undefined;
    const answers: string[] = [];
    try {
      service = await startService({ LOG_LEVEL: 'silly', GATEWAY_TIMEOUT_MS: '300' });
      await runEveryFlow(service.url, answers);
    } finally {
      await service?.stop();
      process.stdout.write = originalStdout;
      process.stderr.write = originalStderr;
    }
    const logs = service!.logs.text;
    expect(service!.logs.lines.length).toBeGreaterThan(30);
    expect(logs).toContain('"last4":"0005"');
    expectNoSecrets([logs, captured.join(''), answers.join('\n')].join('\n'));
  });

  test('when every flow runs against the built service process, then its stdout and stderr hold no secret', async () => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'main.js')], {
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', DATA_DIR: temporaryDataDir(), LOG_LEVEL: 'silly', GATEWAY_TIMEOUT_MS: '300' },
      stdio: 'pipe',
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      const port = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const match = /"message":"listening","port":(\d+)/.exec(output);
          if (match) {
            clearInterval(timer);
            resolve(match[1]!);
          }
        }, 50);
        child.on('exit', () => reject(new Error(`service exited: ${output}`)));
      });
      const answers: string[] = [];
      await runEveryFlow(`http://127.0.0.1:${port}`, answers);
      expectNoSecrets(answers.join('\n'));
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expect(output).toContain('"message":"payment"');
    expectNoSecrets(output);
  });
});

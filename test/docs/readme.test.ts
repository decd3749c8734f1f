import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, startService, type TestService } from '../helpers/service';

/** The README's curl examples, run as written against a fresh service: the front door stays true. */
const run = promisify(execFile);

function curlExamples(): Array<{ command: string; answer: string }> {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((match) => ({ language: match[1], text: match[2]!.trim() }));
  const examples: Array<{ command: string; answer: string }> = [];
  blocks.forEach((block, index) => {
    const next = blocks[index + 1];
    if (block.language === 'sh' && block.text.startsWith('curl') && next?.language === 'json') {
      examples.push({ command: block.text, answer: next.text });
    }
  });
  return examples;
}

let service: TestService;
beforeAll(async () => {
  service = await startService({ LOG_LEVEL: 'warn' });
});
afterAll(async () => {
  await service.stop();
});

test('when the README curl examples run in order on a fresh service, then each prints the documented answer', async () => {
  const examples = curlExamples();
  expect(examples.length).toBeGreaterThanOrEqual(5);
  for (const { command, answer } of examples) {
    const { stdout } = await run('bash', ['-c', command.replace(/http:\/\/localhost:8080/g, service.url)]);
    expect({ command, answer: stdout.trim() }).toEqual({ command, answer });
  }
});

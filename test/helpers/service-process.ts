import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './service';
import { CREDENTIAL_HASH_KEY } from './test-data';

const MAIN = path.join(REPO_ROOT, 'dist', 'main.js');

export interface ServiceProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then wait for the exit code. */
  stop(): Promise<number | null>;
}

/** The built service (dist/main.js, as `npm start` runs it) in a process of its own; `npm test` builds it first. */
export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  if (!fs.existsSync(MAIN)) throw new Error('dist/main.js is missing: run `npm run build` (npm test does)');
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', CREDENTIAL_HASH_KEY, ...env },
    stdio: 'pipe',
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /"message":"listening","port":(\d+)/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve(Number(match[1]));
      }
    }, 25);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`the service exited while starting: ${output}`));
    });
  });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    exited,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

import { loadSandboxSettings } from '../config/tool-settings';
import { startSandboxGateway, QSAPI_PATH } from './sandbox-server';

/** `npm run sandbox`: the PayConex-compatible sandbox gateway on its own (SANDBOX_PORT, default 9000). */
async function main(): Promise<void> {
  const settings = loadSandboxSettings();
  const sandbox = await startSandboxGateway({ host: settings.SANDBOX_HOST, port: settings.SANDBOX_PORT });
  process.stdout.write(`${JSON.stringify({ level: 'warn', message: 'sandbox gateway listening: no real payments', url: sandbox.url + QSAPI_PATH })}\n`);
  const shutdown = () => void sandbox.stop().then(() => process.exit(0));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`Cannot start the sandbox gateway: ${(error as Error).message}\n`);
  process.exit(1);
});

import { StartupError } from './errors';
import { start } from './service';

/** `npm start`: the service on its environment, stopping cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const service = await start();
  const shutdown = () => {
    service.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  if (error instanceof StartupError) process.stderr.write(`Cannot start: ${error.message}\n`);
  else process.stderr.write(`Cannot start: ${error instanceof Error ? error.name : 'unknown error'}: ${(error as Error)?.message ?? ''}\n`);
  process.exit(1);
});

import fs from 'node:fs';
import { loadSimulatorSettings } from '../config/tool-settings';
import { startSimulator } from './simulator-server';
import type { ConnectorConfig } from './connector-call';

/**
 * `npm run simulator`: Twilio's side of a phone payment on SIMULATOR_PORT (8090), every account's
 * auth token SIMULATOR_AUTH_TOKEN (src/config/tool-settings.ts).
 * Connectors come from the JSON file SIMULATOR_CONNECTORS; by default `Default` is
 * the bridge on http://127.0.0.1:8080/ with the sandbox's test credentials.
 */
export const DEFAULT_CONNECTORS: Record<string, ConnectorConfig> = {
  Default: { url: 'http://127.0.0.1:8080/', username: '123456789012', password: '0123456789abcdefABCDEF9876543210' },
};

function readConnectors(file: string | undefined): Record<string, ConnectorConfig> {
  if (!file) return DEFAULT_CONNECTORS;
  const connectors = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, ConnectorConfig>;
  for (const [name, connector] of Object.entries(connectors)) {
    if (connector.mode !== undefined && connector.mode !== 'test' && connector.mode !== 'live') {
      throw new Error(`connector ${name}: "mode" must be "test" or "live"`);
    }
  }
  return connectors;
}

async function main(): Promise<void> {
  const settings = loadSimulatorSettings();
  const connectors = readConnectors(settings.SIMULATOR_CONNECTORS);
  const simulator = await startSimulator({
    host: settings.SIMULATOR_HOST,
    port: settings.SIMULATOR_PORT,
    authToken: settings.SIMULATOR_AUTH_TOKEN,
    connectors,
    unreachableNumbers: (settings.SIMULATOR_UNREACHABLE_NUMBERS ?? '').split(',').map((number) => number.trim()).filter(Boolean),
  });
  process.stdout.write(`${JSON.stringify({ message: 'pay-session simulator listening', url: simulator.url, connectors: Object.keys(connectors) })}\n`);
  const shutdown = () => void simulator.stop().then(() => process.exit(0));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`Cannot start the simulator: ${(error as Error).message}\n`);
  process.exit(1);
});

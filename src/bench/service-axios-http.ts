import { start } from '../service';
import { createAxiosGatewayClient } from './axios-gateway-client';

/**
 * The service exactly as `npm start` runs it, but with the gateway client it had before undici
 * (axios, default http adapter): the baseline `npm run bench` measures the shipped one against.
 */
start({ gatewayClient: createAxiosGatewayClient }).then(
  (service) => {
    process.once('SIGTERM', () => {
      service.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  },
  (error: unknown) => {
    process.stderr.write(`Cannot start: ${error instanceof Error ? error.name : 'unknown error'}\n`);
    process.exit(1);
  },
);

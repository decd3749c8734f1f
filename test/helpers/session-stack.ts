import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import request from 'supertest';
import type { ConnectorConfig } from '../../src/simulator/connector-call';
import { startSimulator, type Simulator } from '../../src/simulator/simulator-server';
import { CRM_SECRET, READER_SECRET, TOKEN_SIGNING_KEY, eventually, standardClients, writeClients } from './api-clients';
import { WebhookReceiver } from './webhooks';
import { startService, temporaryDataDir, type TestService } from './service';
import { ACCESS_KEY, ACCOUNT_ID } from './test-data';

export const ACCOUNT_SID = 'AC00000000000000000000000000000077';
export const AUTH_TOKEN = 'simulator-auth-token-for-sessions';
export const ADMIN_TOKEN = 'admin-token-for-sessions-0123456789';

/** The whole stage 2 on loopback: the simulator as Twilio, the service with its embedded sandbox as connector and gateway. */
export interface SessionStack {
  service: TestService;
  simulator: Simulator;
  /** Where sessions' API clients live; rewrite it to change them (the service re-reads it). */
  clientsFile: string;
  /** The crm client's webhook endpoint. */
  receiver: WebhookReceiver;
  token(clientId?: 'crm' | 'reader', scope?: string): Promise<string>;
  api(token: string): ReturnType<typeof request>;
  /** The caller presses keys on the call's keypad. */
  keypad(callSid: string, digits: string): Promise<void>;
  stop(): Promise<void>;
}

/** A free loopback port: PUBLIC_URL must be known before the service starts, for the callbacks Twilio signs. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A service with payment sessions on: Twilio is the simulator, PUBLIC_URL its own loopback port. */
export function sessionSettings(where: { port: number; dataDir: string; simulatorUrl: string; clientsFile: string }): Record<string, string> {
  return {
    PORT: String(where.port),
    DATA_DIR: where.dataDir,
    PUBLIC_URL: `http://127.0.0.1:${where.port}`,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_API_BASE: where.simulatorUrl,
    API_CLIENTS_FILE: where.clientsFile,
    TOKEN_SIGNING_KEY,
  };
}

export async function startSessionStack(env: Record<string, string> = {}): Promise<SessionStack> {
  const connectors: Record<string, ConnectorConfig> = {};
  const simulator = await startSimulator({ host: '127.0.0.1', port: 0, authToken: AUTH_TOKEN, connectors });
  const dataDir = temporaryDataDir();
  const clientsFile = path.join(dataDir, 'api-clients.json');
  const receiver = await new WebhookReceiver().start();
  writeClients(
    clientsFile,
    standardClients().map((client) => (client.client_id === 'crm' ? { ...client, webhook_url: receiver.url } : client)),
  );
  const port = await freePort();
  const started = startService({ ...sessionSettings({ port, dataDir, simulatorUrl: simulator.url, clientsFile }), ADMIN_TOKEN, ...env });
  // A service that refuses to start leaves nothing running behind it.
  const service = await started.catch(async (error: unknown) => {
    await simulator.stop();
    await receiver.stop();
    throw error;
  });
  // Twilio's console: the Default pay connector is this service, with the sandbox's credentials.
  connectors.Default = { url: `${service.url}/`, username: ACCOUNT_ID, password: ACCESS_KEY };
  const secrets = { crm: CRM_SECRET, reader: READER_SECRET };
  return {
    service,
    simulator,
    clientsFile,
    receiver,
    async token(clientId = 'crm', scope) {
      const answer = await request(service.url)
        .post('/oauth/token')
        .auth(clientId, secrets[clientId])
        .type('form')
        .send({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });
      if (answer.status !== 200) throw new Error(`no token: ${answer.status} ${answer.text}`);
      return answer.body.access_token as string;
    },
    api: () => request(service.url),
    async keypad(callSid, digits) {
      await request(simulator.url).post(`/simulator/calls/${callSid}/dtmf`).type('form').send({ Digits: digits }).expect(204);
      await simulator.settled();
    },
    async stop() {
      await service.stop();
      await simulator.stop();
      await receiver.stop();
    },
  };
}

export interface StreamEvent {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

/** An open event stream (GET /v1/sessions/{id}/events), as a browser's EventSource would read it. */
export interface EventStream {
  events: StreamEvent[];
  /** Waits until an event satisfies `probe`. */
  until(probe: (event: StreamEvent) => boolean, what: string): Promise<StreamEvent>;
  close(): void;
}

export function openEventStream(url: string, token: string, lastEventId?: string): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const events: StreamEvent[] = [];
    const call = http.get(url, { headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream', ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`event stream refused: ${res.statusCode}`));
        res.resume();
        return;
      }
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const field = (name: string) =>
            block
              .split('\n')
              .filter((line) => line.startsWith(`${name}:`))
              .map((line) => line.slice(name.length + 1).replace(/^ /, ''))
              .join('\n');
          if (field('event')) events.push({ id: field('id'), event: field('event'), data: JSON.parse(field('data')) as Record<string, unknown> });
        }
      });
      resolve({
        events,
        async until(probe, what) {
          await eventually(() => events.some(probe), what);
          return events.find(probe)!;
        },
        close: () => call.destroy(),
      });
    });
    call.on('error', () => undefined);
  });
}

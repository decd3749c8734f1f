import { randomBytes } from 'node:crypto';
import path from 'node:path';
import request from 'supertest';
import { verifyWebhookSignature } from '../../src/sessions/webhook-delivery';
import { startSimulator } from '../../src/simulator/simulator-server';
import { CRM_SECRET, WEBHOOK_SECRET, eventually, standardClients, writeClients } from '../helpers/api-clients';
import { temporaryDataDir } from '../helpers/service';
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process';
import { AUTH_TOKEN, freePort, sessionSettings } from '../helpers/session-stack';
import { WebhookReceiver } from '../helpers/webhooks';

/**
 * Webhooks are durable: owed while the merchant's endpoint is down, kept in the database when the
 * service is killed, and delivered by the service started again.
 */
test('when the service is killed while the webhook receiver is down, then the webhook is delivered after both come back', async () => {
  // A pay connector must exist for Twilio to start a pay session; this one is never called (the session is cancelled).
  const simulator = await startSimulator({ host: '127.0.0.1', port: 0, authToken: AUTH_TOKEN, connectors: { Default: { url: 'http://127.0.0.1:9/', username: 'u', password: 'p' } } });
  const receiver = await new WebhookReceiver().start();
  const receiverPort = receiver.port;
  await receiver.stop();
  const dataDir = temporaryDataDir();
  const clientsFile = path.join(dataDir, 'api-clients.json');
  writeClients(clientsFile, standardClients().map((client) => (client.client_id === 'crm' ? { ...client, webhook_url: `http://127.0.0.1:${receiverPort}/hooks`, progress_events: false } : client)));
  const port = await freePort();
  const env = sessionSettings({ port, dataDir, simulatorUrl: simulator.url, clientsFile });
  let service: ServiceProcess | undefined = await startServiceProcess(env);
  try {
    const token = (await request(service.url).post('/oauth/token').auth('crm', CRM_SECRET).type('form').send({ grant_type: 'client_credentials' })).body.access_token as string;
    const created = await request(service.url).post('/v1/sessions').set('Authorization', `Bearer ${token}`).send({ type: 'agent', call_sid: `CA${randomBytes(16).toString('hex')}`, amount: '4.00' });
    expect(created.body.state).toBe('capturing');
    const id = created.body.id as string;
    const cancelled = await request(service.url).post(`/v1/sessions/${id}/cancel`).set('Authorization', `Bearer ${token}`);
    expect(cancelled.body).toMatchObject({ state: 'cancelled' });
    // The first attempt fails (nobody listens) and the next is due 10 s later: killed before it comes.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    service.child.kill('SIGKILL');
    await service.exited;

    await receiver.start(receiverPort);
    service = await startServiceProcess(env);
    await eventually(() => receiver.received.length > 0, 'the webhook after the restart', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receiver.received).toHaveLength(1);
    const [hook] = receiver.received;
    expect(JSON.parse(hook!.body)).toMatchObject({ type: 'session.cancelled', data: { id, state: 'cancelled' } });
    expect(verifyWebhookSignature(hook!.body, String(hook!.headers['paybridge-signature']), WEBHOOK_SECRET)).toBe(true);
  } finally {
    service?.child.kill('SIGKILL');
    await receiver.stop();
    await simulator.stop();
  }
}, 90_000);

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import request from 'supertest';
import twilio from 'twilio';
import type { ConnectorConfig } from '../../src/simulator/connector-call';
import { startSimulator } from '../../src/simulator/simulator-server';
import { CRM_SECRET, TOKEN_SIGNING_KEY, eventually, standardClients, writeClients } from '../helpers/api-clients';
import { WebhookReceiver } from '../helpers/webhooks';
import { describeWithPostgres, freshPostgresUrl } from '../helpers/postgres';
import { startService, temporaryDataDir, type TestService } from '../helpers/service';
import { ACCOUNT_SID, AUTH_TOKEN, freePort, openEventStream } from '../helpers/session-stack';
import { ACCESS_KEY, ACCOUNT_ID } from '../helpers/test-data';

/**
 * Two replicas sharing PostgreSQL: a session started through replica A, Twilio's callbacks
 * reaching replica B (PUBLIC_URL is B's, as a load balancer might route them), and the event
 * stream open on A sees every change, through LISTEN/NOTIFY.
 */
describeWithPostgres('payment sessions across replicas', () => {
  test('when the callbacks reach the other replica, then the stream on the first sees every change to the end; an IVR link fetched through both gives one <Pay>; a payment form sent to both charges once', async () => {
    const connectors: Record<string, ConnectorConfig> = {};
    const simulator = await startSimulator({ host: '127.0.0.1', port: 0, authToken: AUTH_TOKEN, connectors });
    const databaseUrl = await freshPostgresUrl();
    const clientsFile = path.join(temporaryDataDir(), 'api-clients.json');
    const receiver = await new WebhookReceiver().start();
    writeClients(clientsFile, standardClients().map((client) => (client.client_id === 'crm' ? { ...client, webhook_url: receiver.url, progress_events: false } : client)));
    const [portA, portB] = [await freePort(), await freePort()];
    const shared = {
      DATABASE_URL: databaseUrl,
      PUBLIC_URL: `http://127.0.0.1:${portB}`,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_API_BASE: simulator.url,
      API_CLIENTS_FILE: clientsFile,
      TOKEN_SIGNING_KEY,
      LOG_LEVEL: 'warn',
      GATEWAY_CREDENTIALS_PAYCONEX_USERNAME: ACCOUNT_ID,
      GATEWAY_CREDENTIALS_PAYCONEX_PASSWORD: ACCESS_KEY,
      ADMIN_TOKEN: 'admin-token-for-replicas-0123456789',
    };
    const replicas: TestService[] = [];
    try {
      replicas.push(await startService({ ...shared, PORT: String(portA) }), await startService({ ...shared, PORT: String(portB) }));
      const [a, b] = replicas as [TestService, TestService];
      connectors.Default = { url: `${b.url}/`, username: ACCOUNT_ID, password: ACCESS_KEY };
      const token = (await request(a.url).post('/oauth/token').auth('crm', CRM_SECRET).type('form').send({ grant_type: 'client_credentials' })).body.access_token as string;
      const bearer = { Authorization: `Bearer ${token}` };
      const callSid = `CA${randomBytes(16).toString('hex')}`;
      const created = await request(a.url).post('/v1/sessions').set(bearer).send({ type: 'agent', call_sid: callSid, amount: '12.00' });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const stream = await openEventStream(`${a.url}/v1/sessions/${id}/events`, token);
      try {
        const keypad = async (digits: string) => {
          await request(simulator.url).post(`/simulator/calls/${callSid}/dtmf`).type('form').send({ Digits: digits }).expect(204);
          await simulator.settled();
        };
        for (const [field, digits] of [['card_number', '4111111111111111'], ['expiry', '1230'], ['security_code', '123'], ['postal_code', '94111']]) {
          await request(a.url).post(`/v1/sessions/${id}/capture`).set(bearer).send({ field }).expect(200);
          await keypad(`${digits}#`);
        }
        await request(a.url).post(`/v1/sessions/${id}/complete`).set(bearer).expect(200);
        const ended = await stream.until((event) => event.data.state === 'succeeded', 'the success, seen on A');
        expect((ended.data.result as { charge_id: string }).charge_id).toMatch(/^\d{12}$/);
        // Every field's capture, made by B from Twilio's callbacks, reached A's stream.
        for (const field of ['card_number', 'expiry', 'security_code', 'postal_code']) {
          expect(stream.events.some((event) => (event.data.fields as Record<string, { state: string }>)[field]?.state === 'captured')).toBe(true);
        }
        const versions = stream.events.map((event) => Number(event.id));
        expect(versions).toEqual([...versions].sort((x, y) => x - y));
        // Both replicas run a delivery worker; only the one leading sends: the webhook comes once.
        await eventually(() => receiver.received.length > 0, 'the webhook');
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        expect(receiver.received.map((hook) => (JSON.parse(hook.body) as { type: string }).type)).toEqual(['session.succeeded']);
      } finally {
        stream.close();
      }

      // An IVR session's twiml_url fetched ten times at once, half through each replica (as a
      // balancer would spread Twilio's retries): one <Pay>, whichever replica serves it.
      const ivr = await request(a.url).post('/v1/sessions').set(bearer).send({ type: 'ivr', amount: '12.00', return_url: 'https://ivr.example.com/back' });
      const twimlUrl = ivr.body.twiml_url as string;
      const params = { CallSid: `CA${randomBytes(16).toString('hex')}`, AccountSid: ACCOUNT_SID };
      const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, twimlUrl, params);
      const linkPath = new URL(twimlUrl).pathname;
      const fetches = await Promise.all(
        Array.from({ length: 10 }, (_, index) => request((index % 2 === 0 ? a : b).url).post(linkPath).set('X-Twilio-Signature', signature).type('form').send(params)),
      );
      expect(fetches.map((answer) => answer.status)).toEqual(Array(10).fill(200));
      expect(fetches.filter((answer) => answer.text.includes('<Pay')).length).toBe(1);

      // A digital session's payment form sent ten times at once, half to each replica (a customer's
      // impatient clicks, spread by the balancer): one attempt, one charge.
      const digital = await request(a.url).post('/v1/sessions').set(bearer).send({ type: 'digital', amount: '12.00', send_sms: false });
      expect(digital.status).toBe(201);
      const page = new URL(digital.body.link_url as string).pathname;
      const browser = request.agent(a.url);
      const form = await browser.get(page);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
      const cookie = (form.headers['set-cookie'] as unknown as string[]).map((entry) => entry.split(';')[0]).join('; ');
      const fields = { _csrf: csrf, attempt: '1', card_number: '4111111111111111', expiry: '12/30', security_code: '123', postal_code: '94111' };
      const posts = await Promise.all(
        Array.from({ length: 10 }, (_, index) => request((index % 2 === 0 ? a : b).url).post(page).set('Cookie', cookie).type('form').send(fields).redirects(0)),
      );
      expect(posts.map((answer) => answer.status)).toEqual(Array(10).fill(303));
      const digitalId = digital.body.id as string;
      await eventually(async () => (await request(b.url).get(`/v1/sessions/${digitalId}`).set(bearer)).body.state === 'succeeded', 'the payment');
      expect((await request(a.url).get(`/v1/sessions/${digitalId}`).set(bearer)).body.attempts).toEqual({ made: 1, allowed: 3 });
      const admin = { Authorization: 'Bearer admin-token-for-replicas-0123456789' };
      expect((await request(a.url).get(`/transactions/${encodeURIComponent(`${digitalId}:1`)}`).set(admin)).body.records).toHaveLength(1);
      expect((await request(a.url).get(`/transactions?limit=100`).set(admin)).body.records.filter((record: { transaction_id: string }) => record.transaction_id.startsWith(digitalId))).toHaveLength(1);
    } finally {
      for (const replica of replicas) await replica.stop();
      await simulator.stop();
      await receiver.stop();
    }
  }, 60_000);
});

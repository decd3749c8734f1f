import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { RecordingGateway } from '../helpers/recording-gateway';
import { startService, type TestService } from '../helpers/service';
import { basicAuth, cardCharge } from '../helpers/test-data';

/**
 * Nothing in a request can change where the service connects, and nothing a
 * gateway answers can crash it or send card data elsewhere.
 */
const gateway = new RecordingGateway();
let elsewhere: http.Server;
let elsewhereUrl: string;
let elsewhereConnections = 0;
let service: TestService;

beforeAll(async () => {
  await gateway.start();
  elsewhere = http.createServer((_req, res) => res.end('{}'));
  elsewhere.on('connection', () => (elsewhereConnections += 1));
  await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
  service = await startService({ GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8` });
});
afterAll(async () => {
  await service.stop();
  await gateway.stop();
  await new Promise((resolve) => elsewhere.close(resolve));
});

const pay = (body: Record<string, unknown>) => request(service.url).post('/').set('Authorization', basicAuth()).send(body);

test('when every field, parameter and header names another server, then only the configured gateway is contacted', async () => {
  gateway.willAnswer({ body: JSON.stringify({ transaction_id: '1', transaction_approved: true, error: false }) });
  const before = gateway.requests.length;
  const host = new URL(elsewhereUrl).host;
  const pointers = {
    url: elsewhereUrl,
    endpoint: elsewhereUrl,
    gateway_url: elsewhereUrl,
    callback: elsewhereUrl,
    host,
    custom_data: elsewhereUrl,
  };
  const response = await request(service.url)
    .post(`/connectors/payconex?url=${encodeURIComponent(elsewhereUrl)}`)
    .set('Authorization', basicAuth())
    .set('X-Forwarded-Host', host)
    .set('Forwarded', `host=${host}`)
    .set('Referer', elsewhereUrl)
    .send(cardCharge({ description: elsewhereUrl, postal_code: 'A1', parameters: pointers, ...pointers }));
  expect(response.body.charge_id).toBe('1');
  expect(gateway.requests.length - before).toBe(1);
  expect(gateway.lastRequest().path).toBe('/api/qsapi/3.8');
  expect(elsewhereConnections).toBe(0);
});

test('when the gateway redirects to another server, then the redirect is not followed', async () => {
  gateway.willAnswer({ status: 307, body: '', contentType: 'text/plain', headers: { Location: `${elsewhereUrl}/api/qsapi/3.8` } });
  const response = await pay(cardCharge());
  expect(response.body).toEqual({ charge_id: null, error_code: 'GATEWAY_HTTP_ERROR', error_message: 'The gateway answered HTTP 307' });
  expect(elsewhereConnections).toBe(0);
});

test.each([
  ['an empty body', { body: '' }, 'The gateway answer is not valid JSON'],
  ['a huge body (2 MB)', { body: `{"transaction_id":"${'9'.repeat(2 * 1024 * 1024)}"}` }, 'The gateway answer could not be read'],
  ['an id that is an object', { body: '{"transaction_approved":true,"transaction_id":{"$gt":""}}' }, 'The gateway reported success without a transaction id'],
  ['a JSON string', { body: '"APPROVED"' }, 'The gateway answer is not a JSON object'],
  ['deeply nested JSON', { body: `${'['.repeat(5000)}${']'.repeat(5000)}` }, 'The gateway answer is not a JSON object'],
])('when the gateway answers %s, then GATEWAY_BAD_RESPONSE and the service keeps serving', async (_label, answer, message) => {
  gateway.willAnswer(answer);
  const response = await pay(cardCharge());
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ charge_id: null, error_code: 'GATEWAY_BAD_RESPONSE', error_message: message });
  gateway.willAnswer({ body: JSON.stringify({ transaction_id: '2', transaction_approved: true, error: false }) });
  expect((await pay(cardCharge())).body.charge_id).toBe('2');
});

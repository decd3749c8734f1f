import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { mappingFolder, minimalMapping, payconexMappingText } from '../helpers/mapping-files';
import { RecordingGateway } from '../helpers/recording-gateway';
import { startService, type TestService } from '../helpers/service';
import { ACCESS_KEY, basicAuth, cardCharge } from '../helpers/test-data';

describe('ALLOWED_ACCOUNTS', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startService({ ALLOWED_ACCOUNTS: '123456789012, 210987654321' });
  });
  afterAll(async () => {
    await service.stop();
  });

  test('when the account is listed, then it pays', async () => {
    const response = await request(service.url).post('/').set('Authorization', basicAuth()).send(cardCharge());
    expect(response.body.charge_id).toMatch(/^\d{12}$/);
  });

  test('when the account is not listed, then 401 and no gateway call', async () => {
    const body = cardCharge();
    const response = await request(service.url).post('/').set('Authorization', basicAuth('999999999999', ACCESS_KEY)).send(body);
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ charge_id: null, error_code: 'UNAUTHORIZED', error_message: 'This gateway account may not use this service' });
    // Refused before its body is read: the line has the request id, not the transaction_id.
    const line = service.logs.entries().find((entry) => entry.message === 'payment' && entry.request_id === response.headers['x-request-id']);
    expect(line).toMatchObject({ status: 401, error_code: 'UNAUTHORIZED', connector: 'payconex' });
    expect(line).not.toHaveProperty('gateway_ms');
    expect(line).not.toHaveProperty('transaction_id');
  });
});

describe('configured credentials: the bridge holds the gateway secret', () => {
  const gateway = new RecordingGateway();
  let service: TestService;
  const secretsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-'));

  beforeAll(async () => {
    await gateway.start();
    gateway.willAnswer({ body: JSON.stringify({ ok: true, id: 'held-1' }) });
    fs.writeFileSync(path.join(secretsDir, 'password'), 'twilio-side-password-42\n');
    fs.writeFileSync(path.join(secretsDir, 'gateway-key'), 'gateway-api-key-from-file\n');
    const held = minimalMapping({
      name: 'heldkey',
      endpoints: { sandbox: `${gateway.url}/pay` },
      credentials: { account: 'username', mode: 'configured' },
      request: {
        encoding: 'form',
        fields: { login: { from: 'env.HELDKEY_LOGIN' }, key: { from: 'env.HELDKEY_KEY' }, ref: { from: 'transaction_id' } },
        sensitive: ['login', 'key'],
      },
    });
    service = await startService({
      MAPPINGS_DIR: mappingFolder({ 'payconex.yaml': payconexMappingText(), 'heldkey.yaml': held }),
      CONNECTOR_HELDKEY_USERNAME: 'twilio-connector',
      CONNECTOR_HELDKEY_PASSWORD_FILE: path.join(secretsDir, 'password'),
      HELDKEY_LOGIN: 'merchant-login',
      HELDKEY_KEY_FILE: path.join(secretsDir, 'gateway-key'),
    });
  });
  afterAll(async () => {
    await service?.stop();
    await gateway.stop();
  });

  test('when the Basic credentials match the configured ones, then the gateway gets the configured secret', async () => {
    const response = await request(service.url)
      .post('/connectors/heldkey')
      .set('Authorization', basicAuth('twilio-connector', 'twilio-side-password-42'))
      .send(cardCharge({ transaction_id: 'held-tx-1' }));
    expect(response.body).toEqual({ charge_id: 'held-1', error_code: null, error_message: null });
    expect(gateway.lastForm()).toEqual([
      ['login', 'merchant-login'],
      ['key', 'gateway-api-key-from-file'],
      ['ref', 'held-tx-1'],
    ]);
  });

  test.each([
    ['a wrong password', 'twilio-connector', 'twilio-side-password-43'],
    ['a wrong username', 'twilio-connectoR', 'twilio-side-password-42'],
    ['the gateway key itself', 'merchant-login', 'gateway-api-key-from-file'],
  ])('when the Basic credentials carry %s, then 401 and no gateway call', async (_label, username, password) => {
    const before = gateway.requests.length;
    const response = await request(service.url).post('/connectors/heldkey').set('Authorization', basicAuth(username, password)).send(cardCharge());
    expect(response.status).toBe(401);
    expect(response.body.error_code).toBe('UNAUTHORIZED');
    expect(gateway.requests.length).toBe(before);
  });

  test('when the configured credentials are missing, then start-up fails naming the variables', async () => {
    const held = minimalMapping({ name: 'heldkey', credentials: { account: 'username', mode: 'configured' } });
    await expect(startService({ MAPPINGS_DIR: mappingFolder({ 'payconex.yaml': payconexMappingText(), 'heldkey.yaml': held }) })).rejects.toThrow(
      /heldkey\.yaml:\d+:\d+: at credentials\.mode: configured credentials need CONNECTOR_HELDKEY_USERNAME and CONNECTOR_HELDKEY_PASSWORD/,
    );
  });
});

describe('repeated failed authentication', () => {
  test('when one address fails 10 times for one account, then the 11th try is refused with 429, and other accounts still pay', async () => {
    const service = await startService({ LOG_LEVEL: 'warn' });
    try {
      const wrong = basicAuth('123456789012', 'x'.repeat(31));
      for (let attempt = 0; attempt < 10; attempt++) {
        expect((await request(service.url).post('/').set('Authorization', wrong).send(cardCharge())).status).toBe(401);
      }
      const refused = await request(service.url).post('/').set('Authorization', wrong).send(cardCharge());
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.body).toEqual({
        charge_id: null,
        error_code: 'TOO_MANY_AUTH_FAILURES',
        error_message: 'Too many failed authentications from this address; try again later',
      });
      const other = await request(service.url).post('/').set('Authorization', basicAuth('210987654321', ACCESS_KEY)).send(cardCharge());
      expect(other.body.charge_id).toMatch(/^\d{12}$/);
    } finally {
      await service.stop();
    }
  });
});

describe('repeated failed authentication behind a shared address', () => {
  test('when broken connectors exhaust the address limit, then an account proven in the window still pays and an unproven one is refused', async () => {
    const service = await startService({ LOG_LEVEL: 'warn' });
    try {
      const pay = (username: string, key = ACCESS_KEY) => request(service.url).post('/').set('Authorization', basicAuth(username, key)).send(cardCharge());
      expect((await pay('210987654321')).body.charge_id).toMatch(/^\d{12}$/);
      // Ten misconfigured merchants, ten failures each, from the same (Twilio) address.
      for (let merchant = 0; merchant < 10; merchant++) {
        const username = `1000000000${String(merchant).padStart(2, '0')}`;
        for (let attempt = 0; attempt < 10; attempt++) expect((await pay(username, 'x'.repeat(31))).status).toBe(401);
      }
      expect((await pay('123456789012')).status).toBe(429);
      expect((await pay('210987654321')).body.charge_id).toMatch(/^\d{12}$/);
    } finally {
      await service.stop();
    }
  });
});

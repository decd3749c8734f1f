import request from 'supertest';
import { QSAPI_PATH, startSandboxGateway, type SandboxGateway } from '../../src/sandbox/sandbox-server';
import { ACCESS_KEY, ACCOUNT_ID, BANK_ACCOUNT, ROUTING, VISA } from '../helpers/test-data';

let sandbox: SandboxGateway;
beforeAll(async () => {
  sandbox = await startSandboxGateway();
});
afterAll(async () => {
  await sandbox.stop();
});

const credentials = { account_id: ACCOUNT_ID, api_accesskey: ACCESS_KEY, response_format: 'JSON' };
const sale = (fields: Record<string, string> = {}) => ({
  ...credentials,
  transaction_type: 'SALE',
  tender_type: 'CARD',
  card_number: VISA,
  card_expiration: '0830',
  transaction_amount: '10.00',
  currency: 'USD',
  custom_id: 'twilio-tx-1',
  ...fields,
});
const post = (fields: Record<string, string>) => request(sandbox.url).post(QSAPI_PATH).type('form').send(fields);

describe('PayConex sandbox gateway', () => {
  test('when a valid card sale is posted, then it is approved with a 12-digit id and the custom_id echoed', async () => {
    const response = await post(sale());
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      transaction_id: expect.stringMatching(/^\d{12}$/),
      transaction_approved: true,
      error: false,
      error_code: 0,
      authorization_message: 'APPROVED',
      authorization_code: expect.stringMatching(/^\w{6}$/),
      last4: '1111',
      card_brand: 'VISA',
      custom_id: 'twilio-tx-1',
      transaction_amount: '10.00',
    });
    expect(JSON.stringify(response.body)).not.toContain(VISA);
  });

  test('when two sales are posted, then their ids differ', async () => {
    const first = await post(sale());
    const second = await post(sale());
    expect(first.body.transaction_id).not.toBe(second.body.transaction_id);
  });

  test('when the amount is 1.01, then it declines with 30002 DECLINED / CALL AUTH CENTER', async () => {
    const response = await post(sale({ transaction_amount: '1.01' }));
    expect(response.body).toMatchObject({
      transaction_approved: false,
      error: true,
      error_code: 30002,
      error_message: 'DECLINED',
      authorization_message: 'CALL AUTH CENTER',
    });
  });

  test('when the card fails the Luhn check, then 30370 CARD DATA UNREADABLE', async () => {
    const response = await post(sale({ card_number: '4111111111111112' }));
    expect(response.body).toMatchObject({ error: true, error_code: 30370, error_message: 'CARD DATA UNREADABLE' });
  });

  test('when the card has expired, then it declines', async () => {
    const response = await post(sale({ card_expiration: '0120' }));
    expect(response.body).toMatchObject({ transaction_approved: false, error: true, error_code: 30002, authorization_message: 'EXPIRED CARD' });
  });

  test('when the account id is not 12 digits, then an invalid-account error', async () => {
    const response = await post(sale({ account_id: '12345' }));
    expect(response.body).toEqual({ error: true, error_code: 20001, error_message: 'Invalid account_id', error_msg: 'Invalid account_id' });
  });

  test('when the access key is not 32 characters, then an invalid-account error', async () => {
    const response = await post(sale({ api_accesskey: 'x'.repeat(31) }));
    expect(response.body.error_message).toBe('Invalid account_id');
  });

  test('when a card is stored, then the token is the transaction_id and there is no transaction_approved', async () => {
    const { transaction_amount: _a, ...store } = sale({ transaction_type: 'STORE' });
    const response = await post(store);
    expect(response.body).toMatchObject({ transaction_id: expect.stringMatching(/^\d{12}$/), error: false, error_code: 0 });
    expect(response.body).not.toHaveProperty('transaction_approved');
  });

  test('when an ACH sale is posted, then it is approved as PENDING', async () => {
    const response = await post({
      ...credentials,
      transaction_type: 'SALE',
      tender_type: 'ACH',
      bank_account_number: BANK_ACCOUNT,
      bank_routing_number: ROUTING,
      ach_sec_code: 'TEL',
      transaction_amount: '5.00',
    });
    expect(response.body).toMatchObject({ transaction_approved: true, authorization_message: 'PENDING', card_brand: 'ACH' });
  });

  test('when the routing number fails the ABA checksum, then 20019', async () => {
    const response = await post({ ...credentials, transaction_type: 'SALE', tender_type: 'ACH', bank_account_number: BANK_ACCOUNT, bank_routing_number: '123456789', transaction_amount: '5.00' });
    expect(response.body).toEqual({ error: true, error_code: 20019, error_message: 'Invalid bank_routing_number', error_msg: 'Invalid bank_routing_number' });
  });

  test('when the amount is 3.03, then HTTP 500 with an HTML body', async () => {
    const response = await post(sale({ transaction_amount: '3.03' }));
    expect(response.status).toBe(500);
    expect(response.headers['content-type']).toMatch(/text\/html/);
  });

  test('when the amount is 4.04, then a truncated JSON body', async () => {
    const response = await post(sale({ transaction_amount: '4.04' })).buffer(true).parse((res, done) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => done(null, text));
    });
    expect(() => JSON.parse(response.body as string)).toThrow();
  });

  test('when the amount is 5.05, then the connection closes without an answer', async () => {
    await expect(post(sale({ transaction_amount: '5.05' }))).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  test('when the amount is 2.02, then no answer comes for a long time', async () => {
    const outcome = await Promise.race([
      post(sale({ transaction_amount: '2.02' })).then(() => 'answered', () => 'failed'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 500)),
    ]);
    expect(outcome).toBe('still waiting');
  });
});

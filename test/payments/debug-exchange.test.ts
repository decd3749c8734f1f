import request from 'supertest';
import { startService } from '../helpers/service';
import { ACCESS_KEY, CVV, VISA, basicAuth, cardCharge } from '../helpers/test-data';
import { expectNoneOf } from '../helpers/leaks';

test('when LOG_LEVEL is debug, then the gateway exchange is logged with the mapping’s sensitive fields masked', async () => {
  const service = await startService({ LOG_LEVEL: 'debug' });
  try {
    const body = cardCharge({ expiry_month: '08', expiry_year: '2031' });
    await request(service.url).post('/').set('Authorization', basicAuth()).send(body).set('X-Request-Id', 'debug-1');
    const exchange = service.logs.entries().filter((entry) => entry.request_id === 'debug-1');
    const sent = exchange.find((entry) => entry.message === 'gateway request');
    expect(sent).toMatchObject({
      level: 'debug',
      connector: 'payconex',
      encoding: 'form',
      fields: {
        account_id: '123456789012',
        api_accesskey: '[redacted]',
        card_number: '****1111',
        card_expiration: '[redacted]',
        card_verification: '[redacted]',
        transaction_type: 'SALE',
        transaction_amount: '10.00',
        custom_id: body.transaction_id,
      },
    });
    const answered = exchange.find((entry) => entry.message === 'gateway answer');
    expect(answered).toMatchObject({ status: 200, body: expect.stringContaining('"transaction_approved":true') });
    const text = JSON.stringify(exchange);
    expectNoneOf(text, [VISA, CVV, ACCESS_KEY, '0831']);
  } finally {
    await service.stop();
  }
});

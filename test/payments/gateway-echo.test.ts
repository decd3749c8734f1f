import request from 'supertest';
import { RecordingGateway } from '../helpers/recording-gateway';
import { startService } from '../helpers/service';
import { basicAuth, cardCharge } from '../helpers/test-data';

/** Gateways quote what they were sent in their error text; the answer and the journal must not. */
test('when the gateway quotes the card expiry in its error message, then the answer and the journal carry it masked', async () => {
  const gateway = await new RecordingGateway().start();
  const service = await startService({ GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8`, ADMIN_TOKEN: 'a'.repeat(32) });
  try {
    gateway.willAnswer({
      body: JSON.stringify({ transaction_approved: false, error: true, error_code: '20012', error_message: 'Invalid card_expiration 0831 for card 4111111111111111' }),
    });
    const body = cardCharge({ expiry_month: '8', expiry_year: '2031' });
    const answer = await request(service.url).post('/').set('Authorization', basicAuth()).send(body);
    expect(answer.body.error_code).toBe('20012');
    expect(answer.body.error_message).toMatch(/^Invalid card_expiration \S+ for card \S+$/);
    expect(answer.body.error_message).not.toContain('0831');
    expect(answer.body.error_message).not.toContain('4111111111111111');

    const records = await request(service.url).get(`/transactions/${body.transaction_id}`).set('Authorization', `Bearer ${'a'.repeat(32)}`);
    expect(records.status).toBe(200);
    expect(records.text).toContain('Invalid card_expiration');
    expect(records.text).not.toContain('0831');
  } finally {
    await service.stop();
    await gateway.stop();
  }
});

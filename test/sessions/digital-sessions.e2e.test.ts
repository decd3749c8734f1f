import request from 'supertest';
import { eventually } from '../helpers/eventually';
import { expectNoneOf, expectNoSecrets } from '../helpers/leaks';
import { ADMIN_TOKEN, startSessionStack, type SessionStack } from '../helpers/session-stack';
import { CUSTOMER_PHONE, DECLINED_CARD, DIGITAL_ENV, PageVisitor, expireNow, journalRecords } from '../helpers/pay-page';
import { BANK_ACCOUNT, CVV, ROUTING, VISA } from '../helpers/test-data';

/**
 * Digital (pay-by-link) sessions over HTTP: the session API creates one and the simulator's
 * Messages API texts its link; the customer's browser is a supertest agent (it keeps the CSRF
 * cookie) that loads the page and posts the form; the service charges its embedded sandbox
 * through the payment pipeline with the configured credentials.
 */
const PHONE = CUSTOMER_PHONE;
let stack: SessionStack;
let token: string;
beforeAll(async () => {
  stack = await startSessionStack(DIGITAL_ENV);
  token = await stack.token();
});
afterAll(async () => {
  await stack?.stop();
});

interface Created {
  id: string;
  state: string;
  link_url?: string;
  sms: { state: string; sends: number } | null;
  attempts: { made: number; allowed: number };
}
const api = () => stack.api(token);
async function createDigital(body: Record<string, unknown> = {}): Promise<Created> {
  const answer = await api().post('/v1/sessions').set('Authorization', `Bearer ${token}`).send({ type: 'digital', amount: '25.00', reference: 'inv-1', customer: { phone: PHONE }, ...body });
  expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 201 });
  return answer.body as Created;
}
const get = async (id: string) => (await api().get(`/v1/sessions/${id}`).set('Authorization', `Bearer ${token}`)).body;

const CARD = { card_number: VISA, expiry: '08/30', security_code: '123', postal_code: '94111' };

describe('a digital session', () => {
  test('when a client creates one, then the 201 alone carries link_url, the SMS reaches the phone with it, and the customer pays on the page: result on the page, in the session and in the webhook', async () => {
    const created = await createDigital();
    expect(created).toMatchObject({ type: 'digital', state: 'created', connector: 'payconex', customer_present: false, attempts: { made: 0, allowed: 3 } });
    expect(created.link_url).toMatch(new RegExp(`^${stack.service.url}/pay/[A-Za-z0-9_-]{43}$`));
    expect(created.link_url).not.toContain(created.id);
    expect(JSON.stringify(await get(created.id))).not.toContain(created.link_url!.split('/pay/')[1]);

    const inbox = await eventually(async () => {
      const messages = (await request(stack.simulator.url).get('/simulator/messages').query({ to: PHONE })).body.messages as Array<{ body: string; status: string }>;
      const mine = messages.filter((message) => message.body.includes(created.link_url!));
      return mine.length > 0 && mine[0]!.status === 'delivered' ? mine : undefined;
    }, 'the link message delivered');
    expect(inbox[0]!.body).toMatch(/^Acme Water: pay USD 25\.00 for inv-1 securely at http/);
    await eventually(async () => ((await get(created.id)).sms?.state === 'delivered' ? true : undefined), 'the delivery recorded');

    const customer = new PageVisitor(stack.service.url, created.link_url!);
    const page = await customer.open();
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe("default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'");
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.text).toContain('Test payment');
    expect(page.text).toContain('USD 25.00');
    expect(customer.attempt).toBe('1');

    const paid = await customer.follow(await customer.pay(CARD));
    expect(paid.text).toContain('Payment successful');
    expect(paid.text).toContain('Visa ending 1111');
    const session = await get(created.id);
    expect(session).toMatchObject({ state: 'succeeded', attempts: { made: 1, allowed: 3 }, result: { transaction_id: `${created.id}:1`, card_brand: 'visa', last4: '1111', error_code: null } });
    expect(paid.text).toContain(session.result.charge_id);
    expect((await journalRecords(stack, ADMIN_TOKEN, `${created.id}:1`))[0]).toMatchObject({ status: 'approved', last4: '1111' });
    await eventually(
      async () => stack.receiver.received.map((hook) => JSON.parse(hook.body) as { type: string; data: { id: string } }).find((hook) => hook.data.id === created.id && hook.type === 'session.succeeded'),
      'the webhook',
    );

    // Counted as connector requests are, and the text as sent.
    const metrics = (await request(stack.service.url).get('/metrics')).text;
    expect(metrics).toMatch(/paybridge_payment_requests_total\{connector="payconex",method="charge",tender="card",outcome="approved"\} [1-9]/);
    expect(metrics).toMatch(/paybridge_sms_messages_total\{result="sent"\} [1-9]/);

    // Paid: the link shows the result, and a replayed form charges nothing more.
    const again = await customer.follow(await customer.pay(CARD));
    expect(again.text).toContain('Payment successful');
    expect((await get(created.id)).attempts.made).toBe(1);
  });

  test('when the first card is declined, then the same link takes a second attempt that succeeds: two attempts, one charge', async () => {
    const created = await createDigital({ send_sms: false });
    expect(created.sms).toBeNull();
    const customer = new PageVisitor(stack.service.url, created.link_url!);
    await customer.open();
    const declined = await customer.follow(await customer.pay({ ...CARD, card_number: DECLINED_CARD }));
    expect(declined.text).toContain('Your last payment attempt was declined');
    expect(declined.text).toContain('name="attempt" value="2"');
    expect(await get(created.id)).toMatchObject({ state: 'capturing', attempts: { made: 1 }, result: { error_code: '30002' } });

    // The form of attempt 1, sent again (a reload of the POST): nothing happens.
    await customer.follow(await customer.pay(CARD));
    expect(await journalRecords(stack, ADMIN_TOKEN, `${created.id}:2`)).toEqual([]);

    await customer.open();
    const paid = await customer.follow(await customer.pay(CARD));
    expect(paid.text).toContain('Payment successful');
    expect(await get(created.id)).toMatchObject({ state: 'succeeded', attempts: { made: 2 }, result: { transaction_id: `${created.id}:2` } });
    expect((await journalRecords(stack, ADMIN_TOKEN, `${created.id}:1`))[0]!.status).toBe('declined');
    expect((await journalRecords(stack, ADMIN_TOKEN, `${created.id}:2`))[0]!.status).toBe('approved');
  });

  test('when the form is submitted twice at once, then one charge', async () => {
    const created = await createDigital({ send_sms: false });
    const customer = new PageVisitor(stack.service.url, created.link_url!);
    await customer.open();
    const answers = await Promise.all([customer.pay(CARD), customer.pay(CARD), customer.pay(CARD)]);
    expect(answers.map((answer) => answer.status)).toEqual([303, 303, 303]);
    await eventually(async () => ((await get(created.id)).state === 'succeeded' ? true : undefined), 'the payment');
    expect((await get(created.id)).attempts.made).toBe(1);
    expect(await journalRecords(stack, ADMIN_TOKEN, `${created.id}:1`)).toHaveLength(1);
    expect(await journalRecords(stack, ADMIN_TOKEN, `${created.id}:2`)).toEqual([]);
  });

  test('when the form comes without its CSRF token or with another link\'s, then nothing is charged and the page asks for it again', async () => {
    const created = await createDigital({ send_sms: false });
    const other = await createDigital({ send_sms: false });
    const customer = new PageVisitor(stack.service.url, created.link_url!);
    await customer.open();
    const stranger = new PageVisitor(stack.service.url, other.link_url!);
    await stranger.open();
    for (const csrf of ['', stranger.csrf]) {
      const answer = await customer.agent.post(customer.path).type('form').send({ _csrf: csrf, attempt: '1', ...CARD }).redirects(0);
      expect(answer.headers.location).toBe(`${customer.path}?form=expired`);
      expect((await customer.follow(answer)).text).toContain('Nothing was charged');
    }
    expect((await get(created.id)).attempts.made).toBe(0);
    expect(await journalRecords(stack, ADMIN_TOKEN, `${created.id}:1`)).toEqual([]);
  });

  test('when the form has mistakes, then the page names the fields (never their values) and nothing is charged', async () => {
    const created = await createDigital({ send_sms: false });
    const customer = new PageVisitor(stack.service.url, created.link_url!);
    await customer.open();
    const answer = await customer.pay({ card_number: '4111111111111112', expiry: '01/20', security_code: '12', postal_code: '' });
    expect(answer.headers.location).toBe(`${customer.path}?problems=card_number:invalid,expiry:expired,security_code:length,postal_code:missing`);
    const page = await customer.follow(answer);
    expect(page.text).toContain('There is a problem');
    expect(page.text).toContain('Enter a valid card number');
    expect(page.text).toContain('This card has expired');
    expect(page.text).not.toContain('4111111111111112');
    expect((await get(created.id)).attempts.made).toBe(0);

    // A brand the session does not accept is refused before the gateway.
    const mastercardOnly = await createDigital({ send_sms: false, valid_card_types: ['mastercard'] });
    const other = new PageVisitor(stack.service.url, mastercardOnly.link_url!);
    await other.open();
    const refused = await other.pay(CARD);
    expect(refused.headers.location).toBe(`${other.path}?problems=card_number:brand`);
    expect((await other.follow(refused)).text).toContain('This card type is not accepted here');
  });

  test('when a link is past its expiry, then 410 and no charge, even for a form loaded before', async () => {
    const created = await createDigital({ send_sms: false });
    const customer = new PageVisitor(stack.service.url, created.link_url!);
    await customer.open();
    // The clock moves on: the session's expiry is now in the past.
    expireNow(stack, created.id);
    const answer = await customer.pay(CARD);
    expect(answer.status).toBe(410);
    expect(answer.text).toContain('This payment link has expired');
    expect((await get(created.id)).state).toBe('expired');
    expect(await journalRecords(stack, ADMIN_TOKEN, `${created.id}:1`)).toEqual([]);
    expect((await customer.open()).status).toBe(410);
  });

  test('when the client cancels the session, then the link shows it cancelled and takes no payment', async () => {
    const created = await createDigital({ send_sms: false });
    const customer = new PageVisitor(stack.service.url, created.link_url!);
    await customer.open();
    expect((await api().post(`/v1/sessions/${created.id}/cancel`).set('Authorization', `Bearer ${token}`)).status).toBe(200);
    const page = await customer.follow(await customer.pay(CARD));
    expect(page.text).toContain('This payment was cancelled');
    expect(await journalRecords(stack, ADMIN_TOKEN, `${created.id}:1`)).toEqual([]);
  });

  test('when a delivery status comes unsigned or forged, then it is refused and the session keeps what Twilio really said', async () => {
    const created = await createDigital();
    await eventually(async () => ((await get(created.id)).sms?.state === 'delivered' ? true : undefined), 'the delivery recorded');
    const callback = `/twilio/sessions/${created.id}/sms-status`;
    const fields = { MessageSid: 'SM00000000000000000000000000000000', MessageStatus: 'undelivered', ErrorCode: '30003' };
    expect((await request(stack.service.url).post(callback).type('form').send(fields)).status).toBe(400);
    expect((await request(stack.service.url).post(callback).set('X-Twilio-Signature', 'bm90IGEgc2lnbmF0dXJl').type('form').send(fields)).status).toBe(403);
    expect((await get(created.id)).sms).toEqual({ state: 'delivered', error_code: null, sends: 1 });
  });

  test('when the connector has no configured credentials, then creation is refused with CONNECTOR_NOT_CONFIGURED', async () => {
    const answer = await api().post('/v1/sessions').set('Authorization', `Bearer ${token}`).send({ type: 'digital', amount: '5.00', connector: 'nmi', customer: { phone: PHONE } });
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe('CONNECTOR_NOT_CONFIGURED');
    expect(answer.body.error.message).toContain('GATEWAY_CREDENTIALS_NMI_USERNAME');
  });

  test('when the phone is of another country or not a number, then PHONE_NOT_ALLOWED; sent again, the link goes out at most 5 times', async () => {
    for (const phone of ['+447400123456', '+15550000']) {
      const answer = await api().post('/v1/sessions').set('Authorization', `Bearer ${token}`).send({ type: 'digital', amount: '5.00', customer: { phone } });
      expect({ phone, status: answer.status, code: answer.body.error?.code }).toEqual({ phone, status: 422, code: 'PHONE_NOT_ALLOWED' });
    }
    const created = await createDigital({ customer: { phone: '+14155550123' } });
    const links = [created.link_url];
    for (let send = 2; send <= 5; send++) {
      const again = await api().post(`/v1/sessions/${created.id}/send-link`).set('Authorization', `Bearer ${token}`);
      expect({ status: again.status, sends: again.body.sms?.sends }).toEqual({ status: 201, sends: send });
      links.push(again.body.link_url);
    }
    expect(new Set(links).size).toBe(5);
    const sixth = await api().post(`/v1/sessions/${created.id}/send-link`).set('Authorization', `Bearer ${token}`);
    expect(sixth.status).toBe(429);
    expect(sixth.body.error.code).toBe('SMS_LIMIT_REACHED');
  });

  test('when the page sends heartbeats, then the session shows the customer present and counts per field (never characters); a heartbeat without the page\'s CSRF token is refused', async () => {
    const created = await createDigital({ send_sms: false, payment_method: 'ach' });
    const customer = new PageVisitor(stack.service.url, created.link_url!);
    const page = await customer.open();
    expect(page.text).toContain('Routing number');
    const beat = await customer.agent.post(`${customer.path}/presence`).set('X-CSRF-Token', customer.csrf).send({ typed: { routing_number: 4, account_number: 0 } });
    expect(beat.status).toBe(204);
    expect(await get(created.id)).toMatchObject({ state: 'capturing', customer_present: true, fields: { routing_number: { state: 'capturing', length: 4, display: null } } });
    const forged = await request(stack.service.url).post(`${customer.path}/presence`).send({ typed: { routing_number: 9 } });
    expect(forged.status).toBe(403);

    const paid = await customer.follow(await customer.pay({ routing_number: ROUTING, account_number: BANK_ACCOUNT, account_type: 'checking' }));
    expect(paid.text).toContain('Bank account ending');
    const everything = JSON.stringify([await get(created.id), stack.service.logs.text, paid.text]);
    expectNoneOf(everything, [ROUTING, BANK_ACCOUNT, VISA, CVV]);
    expectNoSecrets(stack.service.logs.text);
  });
});

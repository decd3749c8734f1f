import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { startSessionStack, type SessionStack } from '../helpers/session-stack';
import { DIGITAL_ENV } from '../helpers/pay-page';

/**
 * The payment page is public: anyone may guess links or hammer one. Requests are counted per address
 * and per link (PAY_PAGE_REQUESTS_PER_MINUTE, here 10: a link gets 2), in bounded tables.
 */
let stack: SessionStack;
let token: string;
beforeAll(async () => {
  stack = await startSessionStack({
    ...DIGITAL_ENV,
    PAY_PAGE_REQUESTS_PER_MINUTE: '10',
    // As behind a load balancer: each request's address is the one it forwards.
    TRUST_PROXY: '1',
  });
  token = await stack.token();
});
afterAll(async () => {
  await stack?.stop();
});

const guess = () => `/pay/${randomBytes(32).toString('base64url').slice(0, 43)}`;

test('when one address guesses links, then after 10 a minute it gets 429 with Retry-After, and nothing about any link', async () => {
  const answers = [];
  for (let i = 0; i < 14; i++) answers.push(await request(stack.service.url).get(guess()).set('X-Forwarded-For', '198.51.100.7'));
  expect(answers.slice(0, 10).map((answer) => answer.status)).toEqual(Array(10).fill(404));
  expect(answers.slice(10).map((answer) => answer.status)).toEqual(Array(4).fill(429));
  expect(Number(answers[13]!.headers['retry-after'])).toBeGreaterThan(0);
  expect(answers[0]!.text).toContain('Payment link not found');
});

test('when one link is hammered from many addresses, then after a fifth of the limit it gets 429 too', async () => {
  const created = await stack.api(token).post('/v1/sessions').set('Authorization', `Bearer ${token}`).send({ type: 'digital', amount: '5.00', send_sms: false });
  const page = new URL(created.body.link_url as string).pathname;
  const statuses = [];
  for (let i = 0; i < 8; i++) statuses.push((await request(stack.service.url).get(page).set('X-Forwarded-For', `203.0.113.${i + 1}`)).status);
  expect(statuses).toEqual([200, 200, 429, 429, 429, 429, 429, 429]);
});

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import { SQLITE_FILE } from '../../src/store/sqlite-journal';
import { CHROMIUM, LAUNCH_ARGS, Observed, WAIT, expectAccessible, screenshot } from '../helpers/browser';
import { AGENT, consoleUserEntry, consoleUsersFile, signIn, type SignedInConsole } from '../helpers/console';
import { eventually } from '../helpers/eventually';
import { expectNoneOf, expectNoSecrets } from '../helpers/leaks';
import { ADMIN_TOKEN, startSessionStack, type SessionStack } from '../helpers/session-stack';
import { ACCESS_KEY, ACCOUNT_ID, CVV, VISA } from '../helpers/test-data';

/**
 * Issue 16's acceptance point 1 from the agent's side, in Debian's Chromium: an agent signed in
 * to the console sends a payment link (Digital mode), the simulator's phone receives the text, the
 * customer opens the link in a browser of their own and types their card while the console shows
 * them present and a dot per character, then pays; the result shows in both pages, in the
 * console's API and in the journal. Then a declined card and a second attempt on the same link (two
 * attempts, one charge), a text that cannot be delivered, and a cancellation. The console never
 * gets the link itself, nor a digit of the card: everything it received, its DOM and its console are
 * searched. axe-core checks each state; UPDATE_SCREENSHOTS=1 writes console-digital.png.
 */
jest.setTimeout(300_000);

const PHONE = '+15005550006';
const UNREACHABLE = '+14155550124';
const DECLINED_CARD = '4000000000000002';
/** A Visa card's security code: 3 digits. */
const SECURITY_CODE = CVV.slice(0, 3);
/** What the customers type in these tests: none of it may reach the console. */
const TYPED = [VISA, DECLINED_CARD, SECURITY_CODE, CVV];

let browser: Browser;
let stack: SessionStack;
let api: SignedInConsole;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  stack = await startSessionStack({
    CONSOLE_USERS_FILE: consoleUsersFile([consoleUserEntry(AGENT.name, AGENT.password)]),
    GATEWAY_CREDENTIALS_PAYCONEX_USERNAME: ACCOUNT_ID,
    GATEWAY_CREDENTIALS_PAYCONEX_PASSWORD: ACCESS_KEY,
    TWILIO_SMS_FROM: '+15005550001',
    MERCHANT_NAME: 'Acme Water',
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  // The test's own look at the console's sessions: they belong to the reserved client `console`,
  // which no API client can be, so they are read through the console API as a signed-in agent.
  api = await signIn(stack.service.url);
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

interface ConsoleSession {
  id: string;
  type: string;
  state: string;
  attempts: { made: number; allowed: number };
  sms: { state: string; error_code: string | null; sends: number } | null;
  result: Record<string, string | null> | null;
}
const consoleSession = async (id: string) => (await api.agent.get(`/console/api/sessions/${id}`).expect(200)).body.session as ConsoleSession;
const journal = async (transactionId: string) =>
  ((await request(stack.service.url).get(`/transactions/${encodeURIComponent(transactionId)}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`)).body.records ?? []) as Array<{ status: string; last4: string }>;
const history = (id: string) => {
  const db = new Database(path.join(path.dirname(stack.clientsFile), SQLITE_FILE), { readonly: true });
  try {
    return db.prepare('SELECT actor, action, state FROM session_history WHERE session_id = ? ORDER BY version').all(id) as Array<{ actor: string; action: string; state: string }>;
  } finally {
    db.close();
  }
};

/** The links texted to a number, oldest first, once `count` of them are there. */
async function textedLinks(phone: string, count: number): Promise<string[]> {
  return eventually(async () => {
    const messages = (await request(stack.simulator.url).get('/simulator/messages').query({ to: phone })).body.messages as Array<{ body: string }>;
    const links = messages.map((message) => /https?:\/\/\S+\/pay\/[A-Za-z0-9_-]+/.exec(message.body)?.[0]).filter((link): link is string => link !== undefined);
    return links.length >= count ? links : undefined;
  }, `${count} link messages to ${phone}`);
}

/** A signed-in console, on the page the desktop opens with the customer's details in the URL. */
async function openConsole(context: BrowserContext, details: Record<string, string>): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${stack.service.url}/console`);
  await page.getByLabel('Name').fill(AGENT.name);
  await page.getByLabel('Password').fill(AGENT.password);
  await page.getByLabel('Password').press('Enter');
  await page.getByRole('heading', { name: 'Start a payment' }).waitFor(WAIT);
  await page.goto(`${stack.service.url}/console?${new URLSearchParams(details).toString()}`);
  await page.getByRole('heading', { name: 'Start a payment' }).waitFor(WAIT);
  return page;
}

/** Clicks Send link; the session it started. */
async function sendLink(page: Page): Promise<ConsoleSession> {
  const started = page.waitForResponse((response) => response.url() === `${stack.service.url}/console/api/sessions` && response.request().method() === 'POST', WAIT);
  await page.getByRole('button', { name: 'Send link' }).click();
  const answer = await started;
  expect(answer.status()).toBe(201);
  await page.getByRole('heading', { name: 'Payment by link' }).waitFor(WAIT);
  return ((await answer.json()) as { session: ConsoleSession }).session;
}

/** The customer's own browser (another context: no cookie of the agent's), on a phone-sized screen. */
async function customerOn(link: string): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(link);
  await page.getByRole('heading', { name: 'Enter your payment details' }).waitFor(WAIT);
  return { page, context };
}

const dots = (page: Page, field: string, length: number) => page.locator(`#${field}-dots[data-length="${length}"]`).waitFor(WAIT);
const present = (page: Page, yes: boolean) => page.locator(`#presence[data-present="${yes}"]`).waitFor(WAIT);

async function typeCard(customer: Page, console: Page, card: string): Promise<void> {
  await customer.getByLabel('Card number').pressSequentially(card.slice(0, 4), { delay: 20 });
  await dots(console, 'card_number', 4);
  await customer.getByLabel('Card number').pressSequentially(card.slice(4), { delay: 20 });
  await dots(console, 'card_number', 16);
  await customer.getByLabel('Expiry date').pressSequentially('08/30', { delay: 20 });
  await dots(console, 'expiry', 4);
  await customer.getByLabel('Security code').pressSequentially(SECURITY_CODE, { delay: 20 });
  await dots(console, 'security_code', 3);
  await customer.getByLabel('Postal code').pressSequentially('94111', { delay: 20 });
  await dots(console, 'postal_code', 5);
}

/** Nothing the console received, showed or logged holds a digit typed, a link, or a secret. */
async function expectNothingLeaked(observed: Observed, dom: string[], links: string[]): Promise<void> {
  const received = await observed.all();
  const everything = [received, ...dom].join('\n');
  expectNoneOf(everything, TYPED);
  for (const link of links) expect(everything).not.toContain(new URL(link).pathname.split('/').pop()!);
  expect(everything).not.toContain('link_url');
  expect(everything).not.toContain('/pay/');
  expectNoSecrets([everything, stack.service.logs.text].join('\n'));
  expect(observed.requestedUrls.filter((url) => !url.startsWith(`${stack.service.url}/`))).toEqual([]);
  expect(observed.problems).toEqual([]);
}

test('when an agent sends a payment link from the console, then the console shows the text delivered, the customer present with a dot per character typed, and the payment approved with the confirmation code the customer sees', async () => {
  const context = await browser.newContext({ viewport: { width: 900, height: 1000 } });
  const page = await openConsole(context, { phone: PHONE, amount: '25.00', reference: 'inv-2001', name: 'Ada Lovelace' });
  const observed = await Observed.watch(page);
  const dom: string[] = [];

  // Digital: the mobile number the desktop gave, no call SID, a Send link button.
  await page.getByLabel('Digital (pay by link)').check();
  expect(await page.getByLabel("Customer's mobile phone number").inputValue()).toBe(PHONE);
  expect(await page.getByLabel('Call SID').isHidden()).toBe(true);
  expect(await page.getByLabel('Payment gateway').inputValue()).toBe('payconex');
  await page.getByLabel("Customer's mobile phone number").fill('0415');
  await page.getByRole('button', { name: 'Send link' }).click();
  await page.locator('#start-errors', { hasText: 'Enter the phone number in international form' }).waitFor(WAIT);
  await expectAccessible(page, dom);
  await page.getByLabel("Customer's mobile phone number").fill(PHONE);
  await page.locator('#start-errors').waitFor({ state: 'hidden', ...WAIT });

  const started = await sendLink(page);
  expect(started).toMatchObject({ type: 'digital', state: 'created', attempts: { made: 0, allowed: 3 } });
  await page.locator('#sms-state', { hasText: "Delivered to the customer's phone" }).waitFor(WAIT);
  expect(await page.locator('#presence-text').textContent()).toBe('Not on the payment page: the customer has not opened the link yet');
  expect(await page.locator('#summary-phone').textContent()).toBe(PHONE);
  expect(await page.getByRole('button', { name: /^Ask for/ }).count()).toBe(0);
  await expectAccessible(page, dom);

  // The text message, on the customer's phone; then sent again: a new link, the first still good.
  const [first] = await textedLinks(PHONE, 1);
  await page.getByRole('button', { name: 'Send link again' }).click();
  await page.locator('#sms-state', { hasText: '(sent 2 times)' }).waitFor(WAIT);
  await page.locator('#sms-state', { hasText: "Delivered to the customer's phone" }).waitFor(WAIT);
  const links = await textedLinks(PHONE, 2);
  expect(links[0]).toBe(first);
  expect(links[1]).not.toBe(first);

  // The customer opens the newest link: present, green; each character a dot, and never the character.
  const customer = await customerOn(links[1]!);
  await present(page, true);
  expect(await page.locator('#presence-text').textContent()).toBe('Customer is on the payment page');
  await page.locator('#digital-state', { hasText: 'Link opened' }).waitFor(WAIT);
  await typeCard(customer.page, page, VISA);
  expect(await page.locator('#card_number-dots').textContent()).toBe('\u2022'.repeat(16));
  expect(await page.locator('#card_number-state').textContent()).toBe('Typed: 16 characters');
  await screenshot(page, 'digital');
  await expectAccessible(page, dom);

  // The customer pays: the result in both pages.
  await customer.page.getByRole('button', { name: 'Pay USD 25.00' }).click();
  await customer.page.getByRole('heading', { name: 'Payment successful' }).waitFor(WAIT);
  const confirmation = (await customer.page.locator('#confirmation-code').textContent())!;
  expect(confirmation).toMatch(/^\S+$/);
  await page.getByRole('heading', { name: 'Payment approved' }).waitFor(WAIT);
  expect(await page.locator('#result-detail').textContent()).toBe(`Confirmation code: ${confirmation}`);
  expect(await page.locator('#result-code').textContent()).toBe('Paid with card ending 1111');
  expect(await page.locator('#attempts').textContent()).toBe('1 of 3');
  await page.locator('#announce', { hasText: 'Payment approved' }).waitFor(WAIT);
  await expectAccessible(page, dom);

  // The session (the console's: read through its API), its history, the journal; no webhook, the console has none.
  const session = await consoleSession(started.id);
  expect(session).toMatchObject({ state: 'succeeded', attempts: { made: 1, allowed: 3 }, sms: { state: 'delivered', sends: 2 }, result: { charge_id: confirmation, transaction_id: `${started.id}:1`, last4: '1111' } });
  const crm = await stack.token('crm');
  expect((await request(stack.service.url).get(`/v1/sessions/${started.id}`).set('Authorization', `Bearer ${crm}`)).status).toBe(404);
  const lines = history(started.id);
  expect(lines[0]).toMatchObject({ actor: 'console:alice', action: 'created', state: 'created' });
  expect(lines.filter((line) => line.action === 'sms-sent').map((line) => line.actor)).toEqual(['console:alice', 'console:alice']);
  expect(lines).toContainEqual(expect.objectContaining({ actor: 'customer', action: 'payment-submitted', state: 'processing' }));
  // (The customer leaving the page may come after: the sweeper notes it 15 s after the last heartbeat.)
  expect(lines.find((line) => line.action === 'payment-finished')).toMatchObject({ actor: 'customer', state: 'succeeded' });
  expect((await journal(`${started.id}:1`))[0]).toMatchObject({ status: 'approved', last4: '1111' });
  expect(stack.receiver.received.filter((hook) => hook.body.includes(started.id))).toEqual([]);

  await expectNothingLeaked(observed, dom, links);
  await customer.context.close();
  await context.close();
});

test('when the first card is declined, then the console says so and the customer tries again on the same link: two attempts, one charge; a text that cannot be delivered shows why, and a cancelled link takes no payment', async () => {
  const context = await browser.newContext({ viewport: { width: 900, height: 1000 } });
  const page = await openConsole(context, { phone: PHONE, payment_type: 'digital' });
  const observed = await Observed.watch(page);
  const dom: string[] = [];
  // The desktop chose Digital: the form opens on it.
  expect(await page.getByLabel('Digital (pay by link)').isChecked()).toBe(true);
  await page.getByLabel('Amount').fill('30.00');
  await page.getByLabel('Reference').fill('inv-2002');
  const before = (await textedLinks(PHONE, 0)).length;
  const started = await sendLink(page);
  const link = (await textedLinks(PHONE, before + 1))[before]!;

  // A declined card: the session goes back to waiting for the customer, who may try again.
  const customer = await customerOn(link);
  await present(page, true);
  await typeCard(customer.page, page, DECLINED_CARD);
  await customer.page.getByRole('button', { name: 'Pay USD 30.00' }).click();
  await customer.page.getByRole('heading', { name: 'Your last payment attempt was declined' }).waitFor(WAIT);
  await page.getByRole('heading', { name: 'Attempt 1 was declined' }).waitFor(WAIT);
  expect(await page.locator('#attempt-detail').textContent()).toContain('The customer can try again on the same link: 2 attempts left.');
  expect(await page.locator('#attempt-code').textContent()).toBe('Gateway code 30002');
  expect(await page.locator('#attempts').textContent()).toBe('1 of 3');
  await page.locator('#digital-state', { hasText: 'Link opened' }).waitFor(WAIT);
  await dots(page, 'card_number', 0);
  await page.locator('#announce', { hasText: 'Attempt 1 was declined' }).waitFor(WAIT);
  expect(await page.getByRole('button', { name: 'Cancel payment' }).isEnabled()).toBe(true);
  await expectAccessible(page, dom);

  // The second attempt, on the same link.
  await typeCard(customer.page, page, VISA);
  await customer.page.getByRole('button', { name: 'Pay USD 30.00' }).click();
  await customer.page.getByRole('heading', { name: 'Payment successful' }).waitFor(WAIT);
  await page.getByRole('heading', { name: 'Payment approved' }).waitFor(WAIT);
  expect(await page.locator('#attempts').textContent()).toBe('2 of 3');
  expect(await page.locator('#attempt-notice').isHidden()).toBe(true);
  expect(await consoleSession(started.id)).toMatchObject({ state: 'succeeded', attempts: { made: 2 }, result: { transaction_id: `${started.id}:2` } });
  expect((await journal(`${started.id}:1`)).map((record) => record.status)).toEqual(['declined']);
  expect((await journal(`${started.id}:2`)).map((record) => record.status)).toEqual(['approved']);
  expect(await journal(`${started.id}:3`)).toEqual([]);
  await customer.context.close();

  // New payment: a number the network cannot reach; the console says the text was not delivered, and why.
  await page.getByRole('button', { name: 'New payment' }).click();
  expect(await page.getByLabel('Digital (pay by link)').isChecked()).toBe(true);
  await request(stack.simulator.url).put(`/simulator/numbers/${encodeURIComponent(UNREACHABLE)}/unreachable`).expect(204);
  await page.getByLabel("Customer's mobile phone number").fill(UNREACHABLE);
  await page.getByLabel('Amount').fill('12.00');
  const lost = await sendLink(page);
  await page.locator('#sms-state', { hasText: 'Not delivered: the phone network could not deliver it' }).waitFor(WAIT);
  expect(await page.locator('#sms-code').textContent()).toBe('Error code 30003');
  await expectAccessible(page, dom);

  // Cancelled: the link then shows it, and takes no payment.
  await page.getByRole('button', { name: 'Cancel payment' }).click();
  await page.getByRole('heading', { name: 'Payment cancelled' }).waitFor(WAIT);
  expect(await page.locator('#result-detail').textContent()).toBe('Nothing was charged. The link no longer works.');
  expect(await page.locator('#presence-text').textContent()).toBe('Not on the payment page: the payment has ended');
  await expectAccessible(page, dom);
  const [lostLink] = await textedLinks(UNREACHABLE, 1);
  expect((await request(lostLink!).get('')).text).toContain('This payment was cancelled');
  expect(history(lost.id).find((line) => line.state === 'cancelled')).toMatchObject({ actor: 'console:alice', action: 'cancelled' });
  expect(await journal(`${lost.id}:1`)).toEqual([]);

  await expectNothingLeaked(observed, dom, [link, lostLink!]);
  await context.close();
});

describe("the console's API for digital payments", () => {
  test('when the body asks for no text, names a gateway without credentials or no phone, then 422; the answers never hold the link; sending again needs the CSRF token', async () => {
    const post = (body: Record<string, unknown>) => api.agent.post('/console/api/sessions').set('X-CSRF-Token', api.csrf).send({ type: 'digital', connector: 'payconex', amount: '5.00', customer: { phone: '+14155550123' }, ...body });
    for (const [body, message] of [
      [{ send_sms: false }, 'send_sms must be true'],
      [{ connector: 'nmi' }, 'connector must be a payment gateway with configured credentials (payconex)'],
      [{ customer: { name: 'Ada' } }, 'customer.phone is required'],
      [{ customer: { phone: '+447911123456' } }, 'Link messages go only to numbers of US'],
    ] as const) {
      const refused = await post(body);
      expect({ status: refused.status, message: refused.body.error?.message }).toEqual({ status: 422, message: expect.stringContaining(message) });
    }
    const created = await post({});
    expect(created.status).toBe(201);
    const id = created.body.session.id as string;
    expect(created.text).not.toContain('/pay/');
    expect((await api.agent.post(`/console/api/sessions/${id}/send-link`)).body.error.code).toBe('CSRF_TOKEN_INVALID');
    const again = await api.agent.post(`/console/api/sessions/${id}/send-link`).set('X-CSRF-Token', api.csrf);
    expect(again.status).toBe(200);
    expect(again.body.session.sms.sends).toBe(2);
    expect(again.text).not.toContain('/pay/');
    // An ended session's link is not sent again.
    await api.agent.post(`/console/api/sessions/${id}/cancel`).set('X-CSRF-Token', api.csrf).expect(200);
    expect((await api.agent.post(`/console/api/sessions/${id}/send-link`).set('X-CSRF-Token', api.csrf)).body.error.code).toBe('SESSION_ENDED');
  });
});

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import twilio from 'twilio';
import { startSimulator, type Simulator } from '../../src/simulator/simulator-server';
import { simulatorSdk } from '../helpers/simulator-sdk-client';
import { SimulatorTwilioApp } from '../helpers/simulator-twilio-app';

/**
 * Issue 12, acceptance 3: the caller's phone in a real browser (Debian's Chromium, driven by
 * playwright-core). A person playing the caller opens the page, hears (reads) the prompts as
 * the call says them, answers a <Pay> on the keypad, and sees a text message arrive with its
 * link clickable. The page loads nothing but the simulator's own files.
 */
jest.setTimeout(120_000);

const ACCOUNT_SID = `AC${'5e'.repeat(16)}`;
const AUTH_TOKEN = 'phone-page-auth-token';
const CALLER = '+15005550006';
const MERCHANT = '+15005550001';
const CARD = '4111111111111111';
const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser: Browser;
let simulator: Simulator;
let app: SimulatorTwilioApp;
let connector: http.Server;
const connectorRequests: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  connector = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    connectorRequests.push(JSON.parse(body) as Record<string, unknown>);
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ charge_id: 'ch_phone_1', error_code: null, error_message: null }));
  });
  await new Promise<void>((resolve) => connector.listen(0, '127.0.0.1', resolve));
  app = await new SimulatorTwilioApp(AUTH_TOKEN).start();
  app.answer('/paid', (params) => new twilio.twiml.VoiceResponse().say(params.Result === 'success' ? 'Thank you. Your payment is complete.' : 'Sorry, that did not work.'));
  simulator = await startSimulator({
    authToken: AUTH_TOKEN,
    connectors: { Default: { url: `http://127.0.0.1:${(connector.address() as AddressInfo).port}/`, username: 'u', password: 'p' } },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
});
afterAll(async () => {
  await browser?.close();
  await simulator?.settled();
  await simulator?.stop();
  await app?.stop();
  await new Promise((resolve) => connector?.close(resolve));
});

/** A call that greets the caller and runs a <Pay>, as an IVR's TwiML would. */
async function payingCall(): Promise<string> {
  const twiml = new twilio.twiml.VoiceResponse();
  twiml.say('Welcome to Example Pizza.');
  twiml.pay({ action: `${app.url}/paid`, chargeAmount: '5.00', securityCode: false, postalCode: 'false', timeout: 120 });
  const created = await request(simulator.url).post('/simulator/calls').type('form').send({ AccountSid: ACCOUNT_SID, From: CALLER, To: MERCHANT, Twiml: twiml.toString() }).expect(201);
  return created.body.CallSid as string;
}

async function pressKeys(page: Page, keys: string): Promise<void> {
  const names: Record<string, string> = { '*': 'star', '#': 'pound' };
  for (const key of keys) await page.getByRole('button', { name: names[key] ?? key, exact: true }).click();
}

/** Waits (generously) for a line of the prompts list. */
const prompt = (page: Page, text: string) => page.locator('#prompts li', { hasText: text }).waitFor({ timeout: 30_000 });

test('when the caller opens the phone page and answers the <Pay> on its keypad, then the prompts appear as said, the payment goes through, and a text message arrives with a clickable link', async () => {
  const callSid = await payingCall();
  const page = await browser.newPage();
  const requested: string[] = [];
  const problems: string[] = [];
  page.on('request', (sent) => requested.push(sent.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));

  const response = await page.goto(`${simulator.url}/simulator/phone/${callSid}`);
  expect(response?.status()).toBe(200);
  expect(response?.headers()['content-security-policy']).toMatch(/^default-src 'self'/);
  await page.getByRole('heading', { name: "Caller's phone" }).waitFor();

  await prompt(page, 'Welcome to Example Pizza.');
  await prompt(page, 'Please enter your card number, followed by the pound key.');
  await pressKeys(page, `${CARD}#`);
  await prompt(page, 'Please enter your expiration date');
  await pressKeys(page, '1230#');
  await prompt(page, 'Thank you. Your payment is complete.');
  await prompt(page, 'The call has ended.');
  expect(connectorRequests.at(-1)).toMatchObject({ method: 'charge', cardnumber: CARD, amount: '5.00' });
  // 16 digits and # for the card, 4 digits and # for the expiry; each answered by the simulator.
  await page.locator('#key-status', { hasText: '22 keys sent' }).waitFor({ timeout: 30_000 });

  const { client } = simulatorSdk(simulator.url, ACCOUNT_SID, AUTH_TOKEN);
  const link = `${simulator.url}/receipts/r-42`;
  await client.messages.create({ to: CALLER, from: MERCHANT, body: `Your receipt: ${link} Thanks!` });
  const anchor = page.locator('#messages a', { hasText: link });
  await anchor.waitFor({ timeout: 30_000 });
  expect(await anchor.getAttribute('href')).toBe(link);
  expect(await page.locator('#messages li').first().textContent()).toBe(`From ${MERCHANT}: Your receipt: ${link} Thanks!`);

  // The digits typed never show on the page, and nothing left the simulator's origin.
  expect(await page.locator('body').textContent()).not.toContain(CARD);
  expect(requested.filter((url) => !url.startsWith(`${simulator.url}/`))).toEqual([]);
  expect(requested).toEqual(expect.arrayContaining([`${simulator.url}/simulator/assets/phone.js`, `${simulator.url}/simulator/assets/phone.css`]));
  expect(problems).toEqual([]);
  await page.close();
});

test('when axe-core checks the phone page, then it finds no serious or critical accessibility violation', async () => {
  const callSid = await payingCall();
  const page = await browser.newPage();
  await page.goto(`${simulator.url}/simulator/phone/${callSid}`);
  await prompt(page, 'Please enter your card number');
  // Injected through the DevTools protocol: the page's CSP rightly refuses inline scripts.
  await page.evaluate(fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string | null }> }> } }).axe;
    return (await axe.run()).violations.map((violation) => ({ id: violation.id, impact: violation.impact }));
  });
  expect(violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')).toEqual([]);
  await request(simulator.url).post(`/simulator/calls/${callSid}/hangup`).expect(204);
  await page.close();
});

test('when the page asks for an unknown call, then 404 with the same strict policy', async () => {
  const missing = await request(simulator.url).get(`/simulator/phone/CA${'0'.repeat(32)}`);
  expect(missing.status).toBe(404);
  expect(missing.headers['content-security-policy']).toMatch(/^default-src 'self'/);
});

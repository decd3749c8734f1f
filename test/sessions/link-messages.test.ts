import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, PhoneNotAllowed, SmsLimitReached, SmsNotConfigured, TwilioRefused } from '../../src/errors';
import { createMetrics } from '../../src/observability/metrics';
import { RateLimiter } from '../../src/security/rate-limiter';
import { LinkMessages, MAX_SENDS_PER_SESSION, formatExpiry, maskPhone, type LinkMessagesOptions } from '../../src/sessions/link-messages';
import type { SessionResource } from '../../src/sessions/session';
import type { TextMessages } from '../../src/twilio/twilio-messages';
import { capturingLogger } from '../helpers/api-clients';

/** The link message on its own: the merchant's template, the allowed countries, the limits per number and per session, log mode. */
const TEMPLATE = LinkMessages.loadTemplate(path.join(__dirname, '..', '..', 'templates', 'sms-link.yaml'));
const LINK = 'https://pay.example.com/pay/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ';

function session(overrides: Partial<SessionResource> = {}): SessionResource {
  return {
    id: 'ps_00000000000000000000000000000001',
    type: 'digital',
    state: 'created',
    reference: 'inv-7',
    amount: '42.50',
    currency: 'USD',
    payment_method: 'card',
    call_sid: null,
    connector: 'payconex',
    description: null,
    customer: { phone: '+14155550100' },
    created_at: '2026-12-01T10:00:00.000Z',
    updated_at: '2026-12-01T10:00:00.000Z',
    expires_at: '2026-12-04T10:00:00.000Z',
    fields: {},
    required: [],
    result: null,
    sms: null,
    ...overrides,
  };
}

function messages(overrides: Partial<LinkMessagesOptions> = {}, texts?: TextMessages) {
  const { logger, logs } = capturingLogger();
  const metrics = createMetrics();
  const sent: Array<{ to: string; body: string; statusCallback: string }> = [];
  const linkMessages = new LinkMessages({
    texts: texts ?? { send: async (message) => (sent.push(message), { sid: `SM${String(sent.length).padStart(32, '0')}`, status: 'queued' }) },
    mode: 'twilio',
    template: TEMPLATE,
    merchantName: 'Acme Water',
    allowedCountries: ['US'],
    perNumberPerHour: 5,
    publicUrl: 'https://pay.example.com/',
    logger,
    metrics,
    ...overrides,
  });
  return { linkMessages, sent, logs, metrics };
}

test('when a link is texted, then the template says who, how much, for what, where and until when; saving a card says so', async () => {
  const { linkMessages, sent } = messages();
  expect(await linkMessages.send(session(), LINK)).toEqual({ state: 'queued', errorCode: null, messageSid: `SM${'1'.padStart(32, '0')}` });
  expect(sent[0]).toEqual({
    to: '+14155550100',
    body: `Acme Water: pay USD 42.50 for inv-7 securely at ${LINK} (valid until 4 Dec 2026, 10:00 UTC)`,
    statusCallback: 'https://pay.example.com/twilio/sessions/ps_00000000000000000000000000000001/sms-status',
  });
  expect(linkMessages.compose(session({ amount: null, reference: null }), LINK)).toBe(`Acme Water: add your payment details securely at ${LINK} (valid until 4 Dec 2026, 10:00 UTC)`);
  expect(formatExpiry('2027-01-09T07:05:00Z')).toBe('9 Jan 2027, 07:05 UTC');
});

test('when a template names an unknown placeholder or forgets {link}, then start-up stops naming the file, line and path', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sms-template-'));
  const file = path.join(dir, 'sms.yaml');
  fs.writeFileSync(file, 'charge: "Pay {amount} at {link} {cardnumber}"\nsave: "Save at {link}"\n');
  expect(() => LinkMessages.loadTemplate(file)).toThrow(ConfigError);
  expect(() => LinkMessages.loadTemplate(file)).toThrow(new RegExp(`SMS_TEMPLATE_FILE ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1.*charge`));
  fs.writeFileSync(file, 'charge: "Pay {amount} at {link}"\nsave: "Save your card"\n');
  expect(() => LinkMessages.loadTemplate(file)).toThrow(/:2.*save/);
});

test('when the number is not of an allowed country, not a number, or there is no sender, then refused before anything is sent', async () => {
  const { linkMessages, sent } = messages();
  expect(() => linkMessages.check('+447400123456')).toThrow(PhoneNotAllowed);
  expect(() => linkMessages.check('+1555')).toThrow(PhoneNotAllowed);
  expect(() => linkMessages.check(undefined)).toThrow(PhoneNotAllowed);
  expect(() => messages({ allowedCountries: ['US', 'GB'] }).linkMessages.check('+447400123456')).not.toThrow();
  expect(() => messages({ texts: undefined }).linkMessages.check('+14155550100')).toThrow(SmsNotConfigured);
  expect(() => messages({ texts: undefined, mode: 'log' }).linkMessages.check('+14155550100')).not.toThrow();
  await expect(linkMessages.send(session({ customer: { phone: '+447400123456' } }), LINK)).rejects.toThrow(PhoneNotAllowed);
  expect(sent).toEqual([]);
});

test('when one number is texted more than SMS_PER_NUMBER_PER_HOUR, then SMS_LIMIT_REACHED until the hour is over; a session sends at most 5', async () => {
  let clock = Date.parse('2026-12-01T10:00:00Z');
  const { linkMessages, sent } = messages({ perNumberPerHour: 2, now: () => clock });
  await linkMessages.send(session(), LINK);
  await linkMessages.send(session({ id: 'ps_00000000000000000000000000000002' }), LINK);
  const third = linkMessages.send(session({ id: 'ps_00000000000000000000000000000003' }), LINK);
  await expect(third).rejects.toThrow(SmsLimitReached);
  await expect(third).rejects.toMatchObject({ retryAfterSeconds: 3600 });
  await linkMessages.send(session({ customer: { phone: '+14155550101' } }), LINK);
  clock += 3_600_000;
  await linkMessages.send(session(), LINK);
  expect(sent).toHaveLength(4);
  await expect(linkMessages.send(session({ sms: { state: 'delivered', error_code: null, sends: MAX_SENDS_PER_SESSION } }), LINK)).rejects.toThrow(SmsLimitReached);
});

test('when Twilio refuses the message, then the outcome is failed with its code, counted, and logged without the body', async () => {
  const refusing: TextMessages = { send: async () => Promise.reject(new TwilioRefused('Twilio refused the message (HTTP 400 21610)', '21610')) };
  const { linkMessages, logs, metrics } = messages({}, refusing);
  expect(await linkMessages.send(session(), LINK)).toEqual({ state: 'failed', errorCode: '21610' });
  expect(logs.text).toContain('"twilio_error_code":"21610"');
  expect(logs.text).not.toContain(LINK);
  expect(await metrics.registry.getSingleMetricAsString('paybridge_sms_messages_total')).toContain('result="failed"} 1');
});

test('when SMS_MODE=log, then the message is written to the log with the number masked, and nothing is sent', async () => {
  const { linkMessages, sent, logs, metrics } = messages({ mode: 'log' });
  expect(await linkMessages.send(session(), LINK)).toEqual({ state: 'logged', errorCode: null });
  expect(sent).toEqual([]);
  expect(logs.text).toContain(LINK);
  expect(logs.text).not.toContain('+14155550100');
  expect(logs.text).toContain(maskPhone('+14155550100'));
  expect(await metrics.registry.getSingleMetricAsString('paybridge_sms_messages_total')).toContain('result="logged"} 1');
});

test('the per-number counts are bounded: beyond maxKeys the least recently seen are forgotten', () => {
  const limiter = new RateLimiter({ limit: 1, windowMs: 60_000, maxKeys: 100 });
  for (let i = 0; i < 10_000; i++) limiter.take(`number-${i}`);
  expect(limiter.size).toBe(100);
  expect(limiter.take('number-9999')).toBe(false);
  expect(limiter.take('number-0')).toBe(true);
});

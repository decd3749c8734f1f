import { createHash } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { createAjv } from '../ajv';
import { loadCheckedFile } from '../config/data-file';
import { ConfigError, PhoneNotAllowed, SmsLimitReached, SmsNotConfigured, TwilioRefused, TwilioUnavailable } from '../errors';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../observability/metrics';
import { RateLimiter } from '../security/rate-limiter';
import type { TextMessages } from '../twilio/twilio-messages';
import schema from './sms-template.schema.json';
import type { SessionResource } from './session';

/** The link message, as SMS_TEMPLATE_FILE writes it: one for a charge, one for saving a card. */
export interface SmsTemplate {
  charge: string;
  save: string;
}

/** Link messages one session may send (the first included): more is a merchant's loop, or abuse. */
export const MAX_SENDS_PER_SESSION = 5;
/** Phone numbers whose hourly count is kept; beyond it the least recently texted are forgotten. */
const COUNTED_NUMBERS = 100_000;

const validateTemplate = createAjv({ verbose: true }).compile<SmsTemplate>(schema);

export interface LinkMessagesOptions {
  /** Twilio's Messages API; absent when SMS_MODE=twilio has no sender configured. */
  texts?: TextMessages;
  mode: 'twilio' | 'log';
  template: SmsTemplate;
  merchantName: string;
  /** ISO 3166 alpha-2 codes whose numbers may be texted. */
  allowedCountries: readonly string[];
  perNumberPerHour: number;
  /** PUBLIC_URL: Twilio's delivery status callbacks come back under it. */
  publicUrl: string;
  logger: Logger;
  metrics: Metrics;
  now?: () => number;
}

/** How a link message went: Twilio's first status and its sid, `logged`, or `failed` with Twilio's code. */
export interface SmsOutcome {
  state: string;
  errorCode: string | null;
  messageSid?: string;
}

/**
 * The text message that carries a payment link. Destinations are limited to the allowed countries
 * and counted per number (SMS pumping: fraudsters make a form text premium numbers they are paid
 * for); the text is the merchant's template; SMS_MODE=log writes it to the log instead (never in
 * production: the link in it is a bearer link). Opt-outs (STOP) are the Messaging Service's job.
 */
export class LinkMessages {
  private readonly perNumber: RateLimiter;

  constructor(private readonly options: LinkMessagesOptions) {
    this.perNumber = new RateLimiter({ limit: options.perNumberPerHour, windowMs: 3_600_000, maxKeys: COUNTED_NUMBERS, now: options.now });
  }

  static loadTemplate(file: string): SmsTemplate {
    return loadCheckedFile(file, validateTemplate, (message) => new ConfigError(`SMS_TEMPLATE_FILE ${message}`)).document;
  }

  /** Refuses, before anything is created, a number no link message may go to, or messages that cannot be sent at all. */
  check(phone: string | undefined): void {
    if (!phone) throw new PhoneNotAllowed('customer.phone is required to send the link by SMS (or set send_sms to false)');
    const parsed = parsePhoneNumberFromString(phone);
    if (!parsed?.isValid()) throw new PhoneNotAllowed('customer.phone is not a valid phone number');
    if (!parsed.country || !this.options.allowedCountries.includes(parsed.country)) {
      throw new PhoneNotAllowed(`Link messages go only to numbers of ${this.options.allowedCountries.join(', ')} (SMS_ALLOWED_COUNTRIES)`);
    }
    if (this.options.mode === 'twilio' && !this.options.texts) {
      throw new SmsNotConfigured('No sender for link messages: set TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID (or send_sms false)');
    }
  }

  /** Sends the link to the session's customer; a refusal by Twilio is an outcome (`failed`), the limits are errors. */
  async send(session: SessionResource, linkUrl: string): Promise<SmsOutcome> {
    const phone = session.customer?.phone;
    this.check(phone);
    if ((session.sms?.sends ?? 0) >= MAX_SENDS_PER_SESSION) throw new SmsLimitReached(`The link was sent ${MAX_SENDS_PER_SESSION} times: no more messages for this session`);
    // Counted by a hash: the numbers texted are not kept in memory in clear.
    const key = createHash('sha256').update(phone!).digest('base64url');
    if (!this.perNumber.take(key)) {
      throw new SmsLimitReached('This number has had as many link messages as it may this hour (SMS_PER_NUMBER_PER_HOUR)', this.perNumber.retryAfterSeconds(key));
    }
    const body = this.compose(session, linkUrl);
    if (this.options.mode === 'log') {
      this.options.logger.info('link message (SMS_MODE=log: not sent)', { session_id: session.id, to: maskPhone(phone!), body });
      this.options.metrics.smsMessage('logged');
      return { state: 'logged', errorCode: null };
    }
    try {
      const statusCallback = `${this.options.publicUrl.replace(/\/+$/, '')}/twilio/sessions/${session.id}/sms-status`;
      const message = await this.options.texts!.send({ to: phone!, body, statusCallback });
      this.options.metrics.smsMessage('sent');
      return { state: message.status, errorCode: null, messageSid: message.sid };
    } catch (error) {
      if (!(error instanceof TwilioRefused || error instanceof TwilioUnavailable)) throw error;
      this.options.metrics.smsMessage('failed');
      this.options.logger.warn('link message not sent', { session_id: session.id, error_code: error.code, twilio_error_code: error instanceof TwilioRefused ? error.twilioCode : null });
      return { state: 'failed', errorCode: error instanceof TwilioRefused ? error.twilioCode : null };
    }
  }

  /** A delivery that failed after Twilio took the message (`failed`, `undelivered`) counts as a failed message. */
  delivered(state: string): void {
    if (state === 'failed' || state === 'undelivered') this.options.metrics.smsMessage('failed');
  }

  compose(session: SessionResource, linkUrl: string): string {
    const template = session.amount ? this.options.template.charge : this.options.template.save;
    const values: Record<string, string> = {
      merchant: this.options.merchantName,
      amount: session.amount ? `${session.currency} ${session.amount}` : '',
      reference: session.reference ? `for ${session.reference}` : '',
      link: linkUrl,
      expires: formatExpiry(session.expires_at),
    };
    return template.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? '').replace(/ {2,}/g, ' ');
  }
}

/** "4 Dec 2026, 14:00 UTC": plain, and the same whatever the server's locale. */
export function formatExpiry(iso: string): string {
  const date = new Date(iso);
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][date.getUTCMonth()];
  const time = `${String(date.getUTCHours()).padStart(2, '0')}:${String(date.getUTCMinutes()).padStart(2, '0')}`;
  return `${date.getUTCDate()} ${month} ${date.getUTCFullYear()}, ${time} UTC`;
}

/** +1415•••••00: enough for an operator to tell numbers apart, not to text one. */
export function maskPhone(phone: string): string {
  return phone.length <= 6 ? '•••' : `${phone.slice(0, 5)}${'•'.repeat(phone.length - 7)}${phone.slice(-2)}`;
}

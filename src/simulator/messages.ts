import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { passesLuhn } from '../contract/card-brand';
import type { PendingWork } from './pending-work';
import { rfc2822 } from './session';
import type { SignedRequests } from './signed-requests';
import { TwilioError } from './twilio-error';

/** One text message as the simulator keeps it. */
export interface SimulatedMessage {
  sid: string;
  accountSid: string;
  from: string | null;
  to: string;
  messagingServiceSid: string | null;
  body: string;
  status: 'accepted' | 'queued' | 'sent' | 'delivered' | 'undelivered';
  errorCode: number | null;
  errorMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
  sentAt: Date | null;
}

/** Twilio's "Unreachable destination handset" and "Message filtered". */
const UNREACHABLE = { code: 30003, message: 'Unreachable destination handset' };
const FILTERED = { code: 30007, message: 'Message filtered' };

/**
 * A card number in a text message: one run of 13 to 19 digits (spaces or dashes between them
 * allowed) that passes Luhn. No app should ever text one; the simulator treats it as the carrier would
 * treat spam, filtering it (30007), so it never reaches the caller's phone page or a listing.
 */
export function holdsCardNumber(text: string): boolean {
  return [...text.matchAll(/\d[\d -]*\d/g)].some(([run]) => {
    const digits = run.replace(/\D/g, '');
    return digits.length >= 13 && digits.length <= 19 && passesLuhn(digits);
  });
}

export interface MessageRequest {
  to?: string;
  from?: string;
  messagingServiceSid?: string;
  body?: string;
  statusCallback?: string;
}

/**
 * Programmable Messaging, simulated: a created message answers `queued` (or `accepted` when
 * only a Messaging Service is given), then is `sent` and `delivered` to the `To` number's
 * inbox, each step reported to its StatusCallback, signed. A number marked unreachable gets
 * `undelivered` with 30003.
 */
export class MessageCenter {
  private readonly messages: SimulatedMessage[] = [];
  private readonly unreachable: Set<string>;
  private readonly emitter = new EventEmitter();

  constructor(
    private readonly requests: SignedRequests,
    private readonly work: PendingWork,
    unreachableNumbers: readonly string[] = [],
  ) {
    this.unreachable = new Set(unreachableNumbers);
    this.emitter.setMaxListeners(0);
  }

  send(accountSid: string, request: MessageRequest): SimulatedMessage {
    if (!request.to) throw new TwilioError(400, 21604, "A 'To' phone number is required.");
    if (!request.from && !request.messagingServiceSid) throw new TwilioError(400, 21603, "A 'From' phone number is required.");
    if (request.messagingServiceSid && !/^MG[0-9a-fA-F]{32}$/.test(request.messagingServiceSid)) {
      throw new TwilioError(400, 21701, 'The Messaging Service Sid is invalid.');
    }
    if (!request.body) throw new TwilioError(400, 21602, 'Message body is required.');
    if (request.body.length > 1600) throw new TwilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    const now = new Date();
    const filtered = holdsCardNumber(request.body);
    const message: SimulatedMessage = {
      sid: `SM${randomBytes(16).toString('hex')}`,
      accountSid,
      from: request.from || null,
      to: request.to,
      messagingServiceSid: request.messagingServiceSid || null,
      // A filtered body is not kept: card data reaches no page, listing or event.
      body: filtered ? '' : request.body,
      status: request.from ? 'queued' : 'accepted',
      errorCode: null,
      errorMessage: null,
      createdAt: now,
      updatedAt: now,
      sentAt: null,
    };
    this.messages.push(message);
    const answer = { ...message };
    this.work.track(this.deliver(message, request.statusCallback, filtered));
    return answer;
  }

  /** Everything sent to `to`, oldest first, with its current status. */
  to(number: string): SimulatedMessage[] {
    return this.messages.filter((message) => message.to === number);
  }

  setReachable(number: string, reachable: boolean): void {
    if (reachable) this.unreachable.delete(number);
    else this.unreachable.add(number);
  }

  onMessage(listener: (message: SimulatedMessage) => void): () => void {
    this.emitter.on('message', listener);
    return () => this.emitter.off('message', listener);
  }

  private async deliver(message: SimulatedMessage, statusCallback: string | undefined, filtered: boolean): Promise<void> {
    // The answer to the create goes out first: the first callback comes on a later turn, as Twilio's do.
    await new Promise((resolve) => setImmediate(resolve));
    if (!message.from) message.from = '+15005550006'; // the number the Messaging Service picked
    await this.advance(message, 'sent', statusCallback);
    const failure = filtered ? FILTERED : this.unreachable.has(message.to) ? UNREACHABLE : undefined;
    if (failure) {
      message.errorCode = failure.code;
      message.errorMessage = failure.message;
      await this.advance(message, 'undelivered', statusCallback);
    } else {
      await this.advance(message, 'delivered', statusCallback);
    }
  }

  private async advance(message: SimulatedMessage, status: SimulatedMessage['status'], statusCallback: string | undefined): Promise<void> {
    message.status = status;
    message.updatedAt = new Date();
    if (status === 'sent') message.sentAt = message.updatedAt;
    this.emitter.emit('message', message);
    if (!statusCallback) return;
    // Twilio's message status callback: no Body, ever.
    const fields: Record<string, string> = {
      AccountSid: message.accountSid,
      MessageSid: message.sid,
      SmsSid: message.sid,
      SmsStatus: status,
      MessageStatus: status,
      From: message.from ?? '',
      To: message.to,
      ApiVersion: '2010-04-01',
      ...(message.messagingServiceSid ? { MessagingServiceSid: message.messagingServiceSid } : {}),
      ...(message.errorCode !== null ? { ErrorCode: String(message.errorCode) } : {}),
    };
    await this.requests.post(statusCallback, fields).catch(() => undefined);
  }
}

/** The message resource, as Twilio's API answers it (api.v2010.account.message). */
export function messageResource(message: SimulatedMessage): Record<string, unknown> {
  const uri = `/2010-04-01/Accounts/${message.accountSid}/Messages/${message.sid}.json`;
  return {
    account_sid: message.accountSid,
    api_version: '2010-04-01',
    body: message.body,
    date_created: rfc2822(message.createdAt),
    date_sent: message.sentAt ? rfc2822(message.sentAt) : null,
    date_updated: rfc2822(message.updatedAt),
    direction: 'outbound-api',
    error_code: message.errorCode,
    error_message: message.errorMessage,
    from: message.from,
    messaging_service_sid: message.messagingServiceSid,
    num_media: '0',
    num_segments: String(Math.max(1, Math.ceil(message.body.length / 160))),
    price: null,
    price_unit: 'USD',
    sid: message.sid,
    status: message.status,
    subresource_uris: { media: uri.replace(/\.json$/, '/Media.json') },
    to: message.to,
    uri,
  };
}

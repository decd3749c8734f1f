import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IvrPay } from './ivr-pay';
import type { PaySession } from './session';

/**
 * What happened on a call, in order, as a developer (or the phone page) reads it: what the
 * call said, which URL it fetched, where it was redirected, how it ended. Never a digit the
 * caller typed.
 */
export type CallEventDetail =
  | { type: 'say'; text: string }
  | { type: 'play'; url: string }
  | { type: 'pause'; seconds: number }
  | { type: 'fetch'; url: string; method: 'GET' | 'POST'; status?: number }
  | { type: 'redirect'; to: string }
  | { type: 'pay-started' }
  | { type: 'pay-ended'; result: string }
  | { type: 'unsupported-verb'; verb: string }
  | { type: 'error'; code: number; message: string }
  | { type: 'hangup'; reason: string };
export type CallEvent = CallEventDetail & { sequence: number; at: string };

export const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
export const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
export const DEFAULT_ACCOUNT_SID = `AC${'0'.repeat(32)}`;
/** Twilio's magic test numbers: a caller and a merchant line that exist nowhere else. */
export const DEFAULT_CALLER = '+15005550006';
export const DEFAULT_CALLED = '+15005550001';

/**
 * One simulated phone call: who calls whom, whether it is still up, what it said, and which
 * payment flow holds it (a Payments API session or a running `<Pay>`; one at a time).
 */
export class SimulatedCall {
  readonly createdAt = new Date();
  updatedAt = new Date();
  status: 'in-progress' | 'completed' = 'in-progress';
  readonly events: CallEvent[] = [];
  /** Counts redirects: TwiML that was running when the call moved on stops at its next step. */
  generation = 0;
  session?: PaySession;
  pay?: IvrPay;
  private readonly emitter = new EventEmitter();

  constructor(
    readonly sid: string,
    readonly accountSid: string,
    readonly from: string,
    readonly to: string,
  ) {
    this.emitter.setMaxListeners(0);
  }

  static newSid(): string {
    return `CA${randomBytes(16).toString('hex')}`;
  }

  record(detail: CallEventDetail): void {
    const event = { ...detail, sequence: this.events.length + 1, at: new Date().toISOString() } as CallEvent;
    this.events.push(event);
    this.updatedAt = new Date();
    this.emitter.emit('event', event);
  }

  onEvent(listener: (event: CallEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  get isPaying(): boolean {
    const sessionHolds = this.session !== undefined && this.session.state !== 'ended';
    return sessionHolds || this.pay?.ended === false;
  }

  /** The standard parameters of every voice request Twilio makes to an app about this call. */
  voiceParameters(): Record<string, string> {
    return {
      AccountSid: this.accountSid,
      CallSid: this.sid,
      From: this.from,
      To: this.to,
      Caller: this.from,
      Called: this.to,
      CallStatus: this.status,
      Direction: 'inbound',
      ApiVersion: '2010-04-01',
    };
  }
}

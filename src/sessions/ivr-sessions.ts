import { CallerIsPaying, SessionEnded, SessionNotFound, ValidationFailed } from '../errors';
import type { SessionStore } from '../store/session-store';
import { goodbyeTwiml, payTwiml, redirectTwiml, type PayPrompt } from '../twilio/pay-twiml';
import type { AgentSessions } from './agent-sessions';
import { DEFAULT_LANGUAGE, type IvrPrompts, type PromptStep } from './ivr-prompts';
import { isFinal, type FieldKey, type SessionRecord, type SessionResource } from './session';
import type { SessionLinks } from './session-links';
import type { CreateIvrSessionBody } from './session-schemas';
import { readTwilioStatus, TWILIO_FIELDS } from './twilio-status';

export interface IvrSessionsOptions {
  /** The session use cases every type shares: creating, changing (the state machine), reading. */
  sessions: AgentSessions;
  store: SessionStore;
  links: SessionLinks;
  prompts: IvrPrompts;
  /** PUBLIC_URL: the twiml_url, the `<Pay>` action and its status callback are under it. */
  publicUrl: string;
  /** IVR_SESSION_TIMEOUT_S: how long the twiml_url waits to be fetched. */
  timeoutSeconds: number;
  /** IVR_PAY_LIMIT_S: how long a `<Pay>` may run before its session is settled from the journal. */
  payLimitSeconds: number;
  now?: () => Date;
}

/** An IVR session as its creator sees it once: with its twiml_url while it is still to be fetched. */
export interface CreatedIvrSession {
  session: SessionResource;
  twimlUrl?: string;
}

const GOODBYES = {
  succeeded: 'Thank you. Your payment was successful. Goodbye.',
  failed: 'We could not take your payment. Goodbye.',
  cancelled: 'Your payment was cancelled. Goodbye.',
  expired: 'This payment has expired. Goodbye.',
} as const;
const MATCHING_PROMPTS: Partial<Record<FieldKey, string>> = {
  card_number: 'Please enter your card number again, followed by the pound key.',
  expiry: 'Please enter your expiration date again.',
  security_code: 'Please enter your security code again, followed by the pound key.',
  postal_code: 'Please enter your zip code again, followed by the pound key.',
};
const TWILIO_STEP: Record<PromptStep, PayPrompt['for']> = {
  card_number: 'payment-card-number',
  expiry: 'expiration-date',
  security_code: 'security-code',
  postal_code: 'postal-code',
  routing_number: 'bank-routing-number',
  account_number: 'bank-account-number',
  processing: 'payment-processing',
};

/**
 * IVR self-service sessions: the caller pays alone in a `<Pay>` this service hosts. The merchant's
 * IVR redirects the call to the session's twiml_url; Twilio fetches it (signed) and gets the
 * `<Pay>`, once; the `<Pay>` action comes back here, ends the session, and hands the call back to
 * the merchant's return_url with the session's state. The twiml_url is single-use, and the
 * session's own state machine (created → capturing, which one fetch alone can win) is what stands
 * between a second fetch and a second `<Pay>`, that is a second charge.
 */
export class IvrSessions {
  private readonly now: () => Date;

  constructor(private readonly options: IvrSessionsOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async create(clientId: string, body: CreateIvrSessionBody, idempotencyKey?: string): Promise<CreatedIvrSession> {
    if (body.return_url !== undefined) refuseInsecureUrl(body.return_url);
    const { record, created } = await this.options.sessions.open(clientId, body, idempotencyKey, {
      timeoutSeconds: this.options.timeoutSeconds,
      ivr: { returnUrl: body.return_url, language: body.language, maxAttempts: body.max_attempts, timeout: body.timeout },
    });
    // A repeated create (same Idempotency-Key) gets a fresh link in place of the one it may have lost, while one is of use.
    if (record.resource.state !== 'created') return { session: record.resource };
    return { session: record.resource, twimlUrl: await this.issueLink(record, !created) };
  }

  /** A new twiml_url for a session still waiting for it (the earlier one stops working). */
  async reissueLink(clientId: string, id: string): Promise<{ twimlUrl: string; expiresAt: string }> {
    const record = await this.options.sessions.get(clientId, id);
    if (record.resource.type !== 'ivr') throw new SessionNotFound('No IVR session with that id');
    const { state } = record.resource;
    if (isFinal(state)) throw new SessionEnded(`The session has ended (${state})`);
    if (state !== 'created') throw new CallerIsPaying('The TwiML was fetched: the caller is paying');
    return { twimlUrl: await this.issueLink(record, true), expiresAt: record.resource.expires_at };
  }

  /**
   * What Twilio gets from the twiml_url (its signature already checked): the `<Pay>` the first
   * time, on the call it is for; afterwards, or for another call, the call goes back to the
   * merchant with the session as it is. Unknown tokens are a 404.
   */
  async twiml(token: string, callSid: string | undefined): Promise<string> {
    const link = await this.options.links.lookup(token, 'twiml');
    if (!link.found) throw new SessionNotFound('No such TwiML link');
    const record = await this.options.store.get(link.sessionId);
    if (!record) throw new SessionNotFound('No such TwiML link');
    const { resource } = record;
    const forThisCall = !resource.call_sid || !callSid || resource.call_sid === callSid;
    if (resource.state === 'created' && forThisCall) {
      if (link.expired) {
        await this.options.sessions.change(resource.id, { kind: 'expired' }, 'service');
      } else if (!link.used && (await this.options.links.redeem(token, 'twiml')) !== undefined) {
        const expiresAt = new Date(this.now().getTime() + this.options.payLimitSeconds * 1000).toISOString();
        const started = await this.options.sessions.changeOnce(resource.id, { kind: 'pay-started', callSid: callSid ?? null, expiresAt }, 'twilio');
        if (started.changed) return this.payTwimlOf(record);
      }
    }
    return this.handBack((await this.options.store.get(resource.id)) ?? record);
  }

  /** The `<Pay>` action (signature checked): the session ends as the `<Pay>` did, and the call goes back to the merchant. */
  async result(id: string, form: Record<string, unknown>): Promise<string> {
    const record = await this.options.store.get(id);
    if (!record || record.resource.type !== 'ivr') throw new SessionNotFound('No IVR session with that id');
    const payments = await this.options.store.payments(id);
    const transactionId = payments.at(-1)?.transactionId ?? null;
    await this.options.sessions.change(id, { kind: 'pay-ended', status: readTwilioStatus(form), transactionId }, 'twilio');
    return this.handBack((await this.options.store.get(id))!);
  }

  private async issueLink(record: SessionRecord, replace: boolean): Promise<string> {
    const ttl = Math.max(0, Date.parse(record.resource.expires_at) - this.now().getTime());
    const token = await this.options.links.issue(record.resource.id, 'twiml', ttl, { replace });
    return `${this.base()}/twilio/ivr/${token}`;
  }

  private payTwimlOf({ resource, internals }: SessionRecord): string {
    const ivr = internals.ivr!;
    const base = this.base();
    return payTwiml({
      action: `${base}/twilio/ivr/sessions/${resource.id}/result`,
      statusCallback: `${base}/twilio/sessions/${resource.id}/status`,
      paymentConnector: internals.twilio.connector,
      paymentMethod: resource.payment_method === 'ach' ? 'ach-debit' : 'credit-card',
      chargeAmount: resource.amount ?? undefined,
      currency: resource.currency,
      description: resource.description ?? undefined,
      securityCode: internals.twilio.securityCode,
      postalCode: internals.twilio.postalCode,
      validCardTypes: internals.twilio.validCardTypes,
      maxAttempts: ivr.maxAttempts,
      timeout: ivr.timeout,
      language: ivr.language,
      prompts: this.promptsOf(resource, internals.twilio.requireMatchingInputs ?? [], ivr.language),
      parameters: internals.twilio.parameters,
    });
  }

  /** The prompts file's prompts for the session's steps, and a prompt for each field the caller types twice. */
  private promptsOf(resource: SessionResource, matching: FieldKey[], language: string | undefined): PayPrompt[] {
    const configured = this.options.prompts.for(language).prompts ?? {};
    const steps: PromptStep[] = [...(Object.keys(resource.fields) as FieldKey[]), 'processing'];
    const prompts: PayPrompt[] = steps.flatMap((step) =>
      (configured[step] ?? [])
        // A <Prompt requireMatchingInputs> is what makes Twilio ask twice: only where the session says so.
        .filter((entry) => !entry.matching || matching.includes(step as FieldKey))
        .map((entry) => ({
        for: TWILIO_STEP[step],
        say: entry.say,
        attempt: entry.attempt,
        errorType: entry.error_type,
        cardType: entry.card_type,
        requireMatchingInputs: entry.matching,
      })),
    );
    for (const field of matching) {
      if (!(field in resource.fields) || prompts.some((prompt) => prompt.for === TWILIO_STEP[field] && prompt.requireMatchingInputs)) continue;
      // Twilio asks for a field twice only when a <Prompt> for its second entry says so.
      prompts.push({ for: TWILIO_STEP[field], say: MATCHING_PROMPTS[field] ?? `Please enter the ${TWILIO_FIELDS[field].capture} again.`, requireMatchingInputs: true });
    }
    return prompts;
  }

  /** The call back to the merchant's IVR (POST, with the session's id, state and reference), or a goodbye. */
  private handBack({ resource, internals }: SessionRecord): string {
    const returnUrl = internals.ivr?.returnUrl;
    if (returnUrl) {
      const url = new URL(returnUrl);
      url.searchParams.set('session', resource.id);
      url.searchParams.set('state', resource.state);
      if (resource.reference !== null) url.searchParams.set('reference', resource.reference);
      return redirectTwiml(url.toString());
    }
    const language = internals.ivr?.language;
    const goodbyes = this.options.prompts.for(language).goodbye ?? {};
    const state = isFinal(resource.state) ? (resource.state as keyof typeof GOODBYES) : 'failed';
    return goodbyeTwiml(goodbyes[state] ?? GOODBYES[state], language ?? DEFAULT_LANGUAGE);
  }

  private base(): string {
    return this.options.publicUrl.replace(/\/+$/, '');
  }
}

/** Where a call is sent carries the caller's payment state: https, except to this machine (tests, the demo). */
function refuseInsecureUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationFailed('Invalid request: return_url must be an absolute http(s) URL');
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname) || /^127\.\d+\.\d+\.\d+$/.test(parsed.hostname);
  if (parsed.protocol !== 'https:' && !loopback) throw new ValidationFailed('Invalid request: return_url must be https (plain http only to loopback)');
  if (parsed.username || parsed.password) throw new ValidationFailed('Invalid request: return_url must not carry credentials');
}

import { idKeyFor, readWireAnswer } from '../contract/connector-answer';
import { protect } from '../contract/sensitive-fields';
import { ConnectorNotConfigured, LinkExpired, SessionEnded, SessionNotFound, ValidationFailed } from '../errors';
import type { Metrics } from '../observability/metrics';
import type { ConfiguredPayer } from '../payments/configured-credentials';
import { takePayment, type PaymentDependencies, type PaymentOutcome } from '../payments/take-payment';
import type { SessionStore } from '../store/session-store';
import type { Actor, AgentSessions } from './agent-sessions';
import type { LinkMessages } from './link-messages';
import { readPaymentForm, type FieldProblem, type PaymentFormField, type PaymentFormFields } from './payment-form';
import { FIELD_KEYS, isFinal, type FieldKey, type SessionRecord, type SessionResource, type SessionResult } from './session';
import type { SessionLinks } from './session-links';
import type { CreateDigitalSessionBody } from './session-schemas';

/** A heartbeat keeps the customer present this long: the page sends one every 5 s, so two may be lost. */
export const PRESENCE_MS = 15_000;

export interface DigitalSessionsOptions {
  sessions: AgentSessions;
  store: SessionStore;
  links: SessionLinks;
  /** Connectors with configured gateway credentials (GATEWAY_CREDENTIALS_<NAME>_*): the only ones a digital session may use. */
  payers: ReadonlyMap<string, ConfiguredPayer>;
  /** DEFAULT_CONNECTOR: the gateway connector a session naming none charges through. */
  defaultConnector: string;
  payments: PaymentDependencies;
  messages: LinkMessages;
  metrics: Metrics;
  /** PUBLIC_URL: the link_url is under it. */
  publicUrl: string;
  /** DIGITAL_MAX_ATTEMPTS. */
  maxAttempts: number;
  now?: () => Date;
}

/** A digital session as its creator sees it once: with its link_url. */
export interface CreatedDigitalSession {
  session: SessionResource;
  linkUrl?: string;
}

/** What the payment page shows for a link, by the state of its session. */
export type PaymentPageView =
  | { kind: 'form'; session: SessionResource; attempt: number; problems?: Partial<Record<PaymentFormField, FieldProblem>> }
  | { kind: 'processing' | 'paid' | 'failed' | 'cancelled'; session: SessionResource }
  | { kind: 'expired'; session?: SessionResource }
  | { kind: 'not-found' };

/** What a form post made of the payment: the page to go back to, and the problems the form had. */
export interface PaymentSubmission {
  problems?: Partial<Record<PaymentFormField, FieldProblem>>;
}

/**
 * Digital (pay-by-link) sessions: the customer pays on the service's own payment page, opened from
 * a link sent by SMS. The link's token is the only thing in its URL and is kept hashed; the session's
 * state machine decides each step (one attempt processing at a time, attempt numbers issued with the
 * form), and every attempt charges through the same payment pipeline as Twilio's connector requests,
 * with its own transaction_id, `<session id>:<attempt>` (decisions item 7): a double submit, a reload
 * or a replayed form repeats the same attempt, which the journal answers once.
 */
export class DigitalSessions {
  private readonly now: () => Date;

  constructor(private readonly options: DigitalSessionsOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * The gateway connectors a digital session may use: those with configured credentials
   * (GATEWAY_CREDENTIALS_<NAME>_*), DEFAULT_CONNECTOR first when it is one of them. Names only:
   * what the agent console offers in its start form.
   */
  connectors(): string[] {
    const names = [...this.options.payers.keys()].sort();
    const first = names.indexOf(this.options.defaultConnector);
    return first <= 0 ? names : [names[first]!, ...names.slice(0, first), ...names.slice(first + 1)];
  }

  async create(clientId: string, body: CreateDigitalSessionBody, idempotencyKey?: string, actor?: Actor): Promise<CreatedDigitalSession> {
    const connector = body.connector ?? this.options.defaultConnector;
    const payer = this.payerOf(connector);
    const method = body.amount ? 'charge' : 'tokenize';
    const tender = body.payment_method === 'ach' ? 'ach' : 'card';
    if (!payer.connector.mapping.supports(method, tender)) {
      throw new ValidationFailed(`Invalid request: ${connector} does not support ${method} with ${tender === 'ach' ? 'a bank account' : 'a card'}`);
    }
    if (body.send_sms) this.options.messages.check(body.customer?.phone);
    const { record, created } = await this.options.sessions.open(clientId, body, idempotencyKey, {
      timeoutSeconds: body.expires_in,
      defaultConnector: connector,
      digital: { state: { nextAttempt: 1 }, attemptsAllowed: this.options.maxAttempts },
      actor,
    });
    if (isFinal(record.resource.state)) return { session: record.resource };
    // A repeated create (same Idempotency-Key) gets a working link again, without a second message.
    const linkUrl = await this.issueLink(record);
    if (!created || !body.send_sms) return { session: record.resource, linkUrl };
    return { session: await this.text(record, linkUrl, actor ?? `client:${clientId}`), linkUrl };
  }

  /** Sends the link again (a new link: the earlier ones keep working until the session's expiry), at most 5 messages a session. */
  async sendLink(actor: Actor, clientId: string, id: string): Promise<CreatedDigitalSession> {
    const record = await this.options.sessions.get(clientId, id);
    if (record.resource.type !== 'digital') throw new SessionNotFound('No digital session with that id');
    if (isFinal(record.resource.state)) throw new SessionEnded(`The session has ended (${record.resource.state})`);
    this.options.messages.check(record.resource.customer?.phone);
    const linkUrl = await this.issueLink(record);
    return { session: await this.text(record, linkUrl, actor), linkUrl };
  }

  /** What the page at a link shows now; a link past its time ends its session (`expired`) first. */
  async view(token: string, problems?: PaymentSubmission['problems']): Promise<PaymentPageView> {
    const record = await this.resolve(token);
    if (!record) return { kind: 'not-found' };
    const { resource } = await this.expireIfDue(record);
    switch (resource.state) {
      case 'created':
      case 'capturing':
        return { kind: 'form', session: resource, attempt: record.internals.digital!.nextAttempt, problems };
      case 'processing':
        return { kind: 'processing', session: resource };
      case 'succeeded':
        return { kind: 'paid', session: resource };
      default:
        return { kind: resource.state, session: resource };
    }
  }

  /**
   * The form was sent. Checked again on the server; then, if its attempt is the one the session
   * waits for and the session may still be paid (not expired: checked now, not when the form was
   * loaded), the attempt is taken through the payment pipeline. A form of an earlier attempt, a
   * second click, or a post after the end changes nothing: the page then shows the session as it is.
   */
  async pay(token: string, form: PaymentFormFields, requestId: string): Promise<PaymentSubmission> {
    const found = await this.resolve(token);
    if (!found) throw new SessionNotFound('No such payment link');
    const record = await this.expireIfDue(found);
    if (record.resource.state === 'expired') throw new LinkExpired('This payment link has expired');
    const attempt = Number(form.attempt);
    if (!Number.isInteger(attempt) || attempt !== record.internals.digital!.nextAttempt) return {};
    if (record.resource.state !== 'created' && record.resource.state !== 'capturing') return {};
    const read = readPaymentForm(form, record.resource, this.now(), record.internals.twilio.validCardTypes);
    if (!read.ok) return { problems: read.problems };

    const { resource } = record;
    const started = await this.options.sessions.changeOnce(resource.id, { kind: 'payment-submitted', attempt }, 'customer');
    if (!started.changed) return {};
    const payer = this.payerOf(resource.connector);
    const { account_type: accountType, ...card } = read.values;
    const body: Record<string, unknown> = {
      method: resource.amount ? 'charge' : 'tokenize',
      transaction_id: `${resource.id}:${attempt}`,
      ...Object.fromEntries(Object.entries(card).map(([field, value]) => [field, protect(field, value)])),
      ...(resource.amount ? { amount: resource.amount, currency_code: resource.currency } : {}),
      description: resource.description,
      parameters: { ...record.internals.twilio.parameters, ...(accountType ? { account_type: accountType } : {}) },
    };
    const outcome = await takePayment(this.options.payments, { ...payer, body, requestId });
    this.options.metrics.paymentTaken(payer.connector.name, {
      payMethod: outcome.method,
      tender: outcome.tender,
      outcome: outcome.outcome,
      arrival: outcome.arrival,
      journalStatus: outcome.journalStatus,
      gatewayMs: outcome.gatewayMs,
    });
    // An outcome the gateway may have acted on without saying (timeout, broken connection) leaves
    // the session processing: the sweeper settles it from the journal, or reports it to reconcile.
    if (outcome.journalStatus === 'unknown' || outcome.arrival === 'joined') return {};
    await this.options.sessions.change(
      resource.id,
      { kind: 'payment-finished', attempt, approved: outcome.outcome === 'approved', result: resultOf(outcome) },
      'customer',
    );
    return {};
  }

  /** The page's heartbeat: the customer is there, having typed so many characters per field (counts, never characters). */
  async seen(token: string, typed: Partial<Record<FieldKey, number>>): Promise<SessionResource> {
    const found = await this.resolve(token);
    if (!found) throw new SessionNotFound('No such payment link');
    const record = await this.expireIfDue(found);
    if (record.resource.state === 'expired') throw new LinkExpired('This payment link has expired');
    const counts = Object.fromEntries(FIELD_KEYS.filter((field) => typed[field] !== undefined).map((field) => [field, Math.min(32, Math.max(0, Math.trunc(typed[field]!)))]));
    const until = this.now().getTime() + PRESENCE_MS;
    return this.options.sessions.change(record.resource.id, { kind: 'customer-seen', until, typed: counts }, 'customer');
  }

  /** The sweeper: no heartbeat for 15 s, the customer has left the page. */
  async left(record: SessionRecord): Promise<void> {
    await this.options.sessions.change(record.resource.id, { kind: 'customer-left' }, 'service');
  }

  /** Twilio's delivery status of a link message (its signature already checked). */
  async smsStatus(id: string, form: Record<string, unknown>): Promise<void> {
    const record = await this.options.store.get(id);
    if (!record || record.resource.type !== 'digital') return;
    const messageSid = typeof form.MessageSid === 'string' ? form.MessageSid : '';
    const state = typeof form.MessageStatus === 'string' && /^[a-z-]{1,20}$/.test(form.MessageStatus) ? form.MessageStatus : '';
    if (!messageSid || !state) return;
    const errorCode = typeof form.ErrorCode === 'string' && /^[0-9]{1,6}$/.test(form.ErrorCode) ? form.ErrorCode : null;
    const { changed } = await this.options.sessions.changeOnce(id, { kind: 'sms-status', messageSid, state, errorCode }, 'twilio');
    if (changed) this.options.messages.delivered(state);
  }

  private payerOf(connector: string): ConfiguredPayer {
    const payer = this.options.payers.get(connector);
    if (!payer) {
      const name = connector.toUpperCase().replace(/-/g, '_');
      throw new ConnectorNotConfigured(
        `The connector ${connector} has no gateway credentials for digital sessions: set GATEWAY_CREDENTIALS_${name}_USERNAME and GATEWAY_CREDENTIALS_${name}_PASSWORD`,
      );
    }
    return payer;
  }

  private async text(record: SessionRecord, linkUrl: string, actor: Actor): Promise<SessionResource> {
    const sent = await this.options.messages.send(record.resource, linkUrl);
    return this.options.sessions.change(record.resource.id, { kind: 'sms-sent', state: sent.state, errorCode: sent.errorCode, messageSid: sent.messageSid }, actor);
  }

  private async issueLink(record: SessionRecord): Promise<string> {
    const ttl = Math.max(0, Date.parse(record.resource.expires_at) - this.now().getTime());
    const token = await this.options.links.issue(record.resource.id, 'pay', ttl);
    return `${this.options.publicUrl.replace(/\/+$/, '')}/pay/${token}`;
  }

  private async resolve(token: string): Promise<SessionRecord | undefined> {
    const link = await this.options.links.lookup(token, 'pay');
    if (!link.found) return undefined;
    const record = await this.options.store.get(link.sessionId);
    return record?.resource.type === 'digital' ? record : undefined;
  }

  /** Expiry is checked on every action on the link, not only by the sweeper. */
  private async expireIfDue(record: SessionRecord): Promise<SessionRecord> {
    const due = Date.parse(record.resource.expires_at) <= this.now().getTime();
    if (!due || (record.resource.state !== 'created' && record.resource.state !== 'capturing')) return record;
    await this.options.sessions.change(record.resource.id, { kind: 'expired' }, 'service');
    return (await this.options.store.get(record.resource.id)) ?? record;
  }
}

/** The session's result from the pipeline's answer: its id or its error, and the card's brand and last 4. */
function resultOf(outcome: PaymentOutcome): SessionResult {
  const method = outcome.method ?? 'charge';
  const answered = readWireAnswer(method, outcome.answer.body);
  return {
    [idKeyFor(method)]: answered.id,
    error_code: answered.errorCode ?? (outcome.outcome === 'approved' ? null : (outcome.errorCode ?? null)),
    error_message: answered.errorMessage,
    twilio_error_code: null,
    transaction_id: outcome.transactionId ?? null,
    card_brand: outcome.tender === 'ach' ? 'ach' : (outcome.cardBrand ?? null),
    last4: outcome.last4 ?? null,
  };
}

import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { CallHasActiveSession, IdempotencyKeyReused, SessionNotFound, TwilioRefused, TwilioUnavailable } from '../errors';
import type { Logger } from '../logging/logger';
import type { HistoryEntry, SessionQuery, SessionStore } from '../store/session-store';
import type { Statement } from '../store/sql';
import type { TwilioPayments } from '../twilio/twilio-payments';
import { emptyField, fieldsToCollect, newSessionId, type DigitalState, type FieldKey, type IvrOptions, type SessionRecord, type SessionResource } from './session';
import type { SessionEvents } from './session-events';
import type { CreateDigitalSessionBody, CreateIvrSessionBody, CreateSessionBody } from './session-schemas';
import { apply, type SessionEvent, type Transition } from './transitions';
import { readTwilioStatus, TWILIO_FIELDS } from './twilio-status';

/** Who changed a session, for its history: an API client, a console user, Twilio, the customer on the payment page, or the service itself. */
export type Actor = `client:${string}` | `console:${string}` | 'twilio' | 'service' | 'customer';

/** The webhooks a change owes its client, as statements written in the same transaction as the change. */
export type WebhooksFor = (clientId: string, before: SessionResource, after: SessionResource, version: number) => Statement[];

export interface AgentSessionsOptions {
  store: SessionStore;
  /** Told once a change that owes webhooks is committed: the delivery worker wakes. */
  webhooksOwed?: () => Promise<void>;
  twilio: TwilioPayments;
  events: SessionEvents;
  webhooksFor: WebhooksFor;
  /** PUBLIC_URL: Twilio's status callbacks come back under it. */
  publicUrl: string;
  /** The Twilio payment connector sessions use unless they name one. */
  defaultConnector: string;
  timeoutSeconds: number;
  logger: Logger;
  now?: () => Date;
}

/** How often a change that lost a race with another is tried again (re-read, re-applied). */
const SAVE_ATTEMPTS = 8;
/** Sessions kept in memory as last saved here: a callback changes one without reading it first. */
const RECENT_SESSIONS = 10_000;

/**
 * Agent-assisted payment sessions: the use cases of the session API and of Twilio's callbacks.
 * Each reads the session, asks the state machine (transitions.ts) what an event makes of it,
 * calls Twilio when the event needs it, and saves the result with its history line and webhooks
 * in one transaction; then the session's event streams hear of it. Twilio is called before the
 * change is saved, and only once the state machine has said the action is allowed.
 */
export class AgentSessions {
  private readonly now: () => Date;
  /**
   * Each session as this replica last saved it. A change starts from it instead of reading the
   * database; if another replica changed the session since, the save (which compares versions)
   * fails and the change starts again from the database.
   */
  private readonly recent = new LRUCache<string, SessionRecord>({ max: RECENT_SESSIONS });

  constructor(private readonly options: AgentSessionsOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Creates a session and starts Twilio's pay session on the call. The same Idempotency-Key and
   * body give the same session. The history names `actor` (default: the client itself).
   */
  async create(clientId: string, body: CreateSessionBody, idempotencyKey?: string, actor?: Actor): Promise<SessionResource> {
    const { record, created } = await this.open(clientId, body, idempotencyKey, { timeoutSeconds: this.options.timeoutSeconds, actor });
    return created ? this.startAtTwilio(record) : record.resource;
  }

  /**
   * Inserts a new session of any type, in state `created`; or, for an Idempotency-Key used before
   * with the same body, finds the session it made (`created` false). The history names `actor`
   * (default: the client itself).
   */
  async open(
    clientId: string,
    body: CreateSessionBody | CreateIvrSessionBody | CreateDigitalSessionBody,
    idempotencyKey: string | undefined,
    options: {
      timeoutSeconds: number;
      ivr?: IvrOptions;
      actor?: Actor;
      /** A digital session's page: its first attempt, and how many its link allows. */
      digital?: { state: DigitalState; attemptsAllowed: number };
      /** The connector when the body names none (a digital session's: the gateway connector). */
      defaultConnector?: string;
    },
  ): Promise<{ record: SessionRecord; created: boolean }> {
    const requestHash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
    const now = this.now();
    const id = newSessionId();
    const fields = fieldsToCollect(body.payment_method, { securityCode: body.security_code, postalCode: body.postal_code });
    const connector = body.connector ?? options.defaultConnector ?? this.options.defaultConnector;
    const record: SessionRecord = {
      clientId,
      version: 1,
      idempotencyKey,
      requestHash,
      internals: {
        twilio: {
          connector,
          securityCode: body.security_code,
          postalCode: body.postal_code,
          validCardTypes: body.valid_card_types,
          requireMatchingInputs: 'require_matching_inputs' in body ? body.require_matching_inputs : undefined,
          confirmation: body.type === 'agent' ? body.confirmation : undefined,
          parameters: { ...body.parameters, ...(body.reference ? { reference: body.reference } : {}), session_id: id },
        },
        ...(options.ivr ? { ivr: options.ivr } : {}),
        ...(options.digital ? { digital: options.digital.state } : {}),
      },
      resource: {
        id,
        type: body.type,
        state: 'created',
        reference: body.reference ?? null,
        amount: body.amount ?? null,
        currency: body.currency.toUpperCase(),
        payment_method: body.payment_method,
        call_sid: body.call_sid ?? null,
        connector,
        description: body.description ?? null,
        customer: body.customer ?? null,
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
        expires_at: new Date(now.getTime() + options.timeoutSeconds * 1000).toISOString(),
        fields: Object.fromEntries(fields.map((field) => [field, emptyField()])),
        required: [...fields],
        result: null,
        ...(options.digital ? { sms: null, customer_present: false, attempts: { made: 0, allowed: options.digital.attemptsAllowed } } : {}),
      },
    };
    const outcome = await this.options.store.insert(record, historyOf(record, options.actor ?? `client:${clientId}`, 'created'));
    if (!outcome.inserted && 'sameKey' in outcome) {
      if (outcome.sameKey.requestHash !== requestHash) throw new IdempotencyKeyReused('This Idempotency-Key was used with a different body');
      return { record: outcome.sameKey, created: false };
    }
    if (!outcome.inserted) throw new CallHasActiveSession('This call has a session that has not ended; one payment at a time per call');
    await this.announce(record.clientId, undefined, record);
    return { record, created: true };
  }

  /** A session of the client's, or 404 (another client's session is not its business). */
  async get(clientId: string, id: string): Promise<SessionRecord> {
    const record = await this.options.store.get(id);
    if (!record || record.clientId !== clientId) throw new SessionNotFound('No session with that id');
    return record;
  }

  /** A session by its id alone, whoever owns it: for a bearer link that names it (the record says its owner). */
  async byId(id: string): Promise<SessionRecord> {
    const record = await this.options.store.get(id);
    if (!record) throw new SessionNotFound('No session with that id');
    return record;
  }

  list(query: SessionQuery): Promise<SessionResource[]> {
    return this.options.store.list(query);
  }

  async history(clientId: string, id: string): Promise<HistoryEntry[]> {
    await this.get(clientId, id);
    return this.options.store.history(id);
  }

  /** Asks the caller for a field (again, if it was captured: the agent's re-request). */
  async capture(actor: Actor, clientId: string, id: string, field: FieldKey): Promise<SessionResource> {
    const event: SessionEvent = { kind: 'capture-requested', field };
    const record = await this.allowed(clientId, id, event);
    await this.callTwilio(record, 'capture', { capture: TWILIO_FIELDS[field].capture });
    return this.change(id, event, actor);
  }

  async complete(actor: Actor, clientId: string, id: string): Promise<SessionResource> {
    const event: SessionEvent = { kind: 'complete-requested' };
    const record = await this.allowed(clientId, id, event);
    await this.callTwilio(record, 'complete', { status: 'complete' });
    return this.change(id, event, actor);
  }

  async cancel(actor: Actor, clientId: string, id: string): Promise<SessionResource> {
    const event: SessionEvent = { kind: 'cancelled' };
    const record = await this.allowed(clientId, id, event);
    if (record.internals.paymentSid) await this.callTwilio(record, 'cancel', { status: 'cancel' });
    return this.change(id, event, actor);
  }

  /**
   * A session not finished in time: cancelled at Twilio, then `expired`. Twilio no longer having
   * the pay session (the call ended) leaves nothing to cancel; Twilio out of reach leaves the
   * session as it is, for the next sweep.
   */
  async expire(record: SessionRecord): Promise<void> {
    if (record.internals.paymentSid) {
      try {
        await this.callTwilio(record, 'expire', { status: 'cancel' });
      } catch (error) {
        if (!(error instanceof TwilioRefused)) return;
      }
    }
    await this.change(record.resource.id, { kind: 'expired' }, 'service');
  }

  /** A status callback from Twilio (its signature already checked): the session's progress, or its end. */
  async twilioStatus(id: string, form: Record<string, unknown>): Promise<void> {
    const record = await this.options.store.get(id);
    if (!record) return; // pruned, or never ours: nothing to change
    const status = readTwilioStatus(form);
    // A callback of another pay session (an earlier one on the same call) is not this session's news.
    if (status.paymentSid && record.internals.paymentSid && status.paymentSid !== record.internals.paymentSid) return;
    await this.change(id, { kind: 'twilio-status', status }, 'twilio');
  }

  /** Applies one event, saving it unless another change came first; then re-reads and tries again. */
  async change(id: string, event: SessionEvent, actor: Actor, detail?: string): Promise<SessionResource> {
    return (await this.changeOnce(id, event, actor, detail)).resource;
  }

  /** As change(), saying whether this event changed the session: of two racing the same way, exactly one did. */
  async changeOnce(id: string, event: SessionEvent, actor: Actor, detail?: string): Promise<{ resource: SessionResource; changed: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const cached = attempt === 1 ? this.recent.get(id) : undefined;
      const before = cached ?? (await this.options.store.get(id));
      if (!before) throw new SessionNotFound('No session with that id');
      let transition: Transition;
      try {
        transition = apply(before, event, this.now());
      } catch (error) {
        // Refused by the session as this replica last saw it: another replica may have moved it on.
        if (cached) continue;
        throw error;
      }
      // Nothing to change, as this replica last saw it; the database, which the save would have checked, decides.
      if (!transition.changed && cached) continue;
      if (!transition.changed) return { resource: before.resource, changed: false };
      const after = transition.record;
      const webhooks = this.options.webhooksFor(after.clientId, before.resource, after.resource, after.version);
      const saved = await this.options.store.save(before, after, transition.historic ? historyOf(after, actor, transition.action, detail) : undefined, webhooks);
      if (saved) {
        this.recent.set(id, after);
        await this.announce(after.clientId, before, after);
        if (webhooks.length > 0) await this.options.webhooksOwed?.().catch(() => undefined);
        return { resource: after.resource, changed: true };
      }
      this.recent.delete(id);
      if (attempt >= SAVE_ATTEMPTS) throw new Error('the session kept changing while it was being saved');
    }
  }

  /** The session, if the state machine allows the event on it now (a 409 otherwise), before Twilio is asked anything. */
  private async allowed(clientId: string, id: string, event: SessionEvent): Promise<SessionRecord> {
    const record = await this.get(clientId, id);
    apply(record, event, this.now());
    return record;
  }

  /** Create Payment on the call; the session starts capturing, or fails with Twilio's reason. */
  private async startAtTwilio(record: SessionRecord): Promise<SessionResource> {
    const { resource, internals } = record;
    try {
      const { paymentSid } = await this.options.twilio.create(resource.call_sid!, {
        idempotencyKey: `${resource.id}-create`,
        statusCallback: this.statusCallback(resource.id),
        paymentConnector: internals.twilio.connector,
        paymentMethod: resource.payment_method === 'ach' ? 'ach-debit' : 'credit-card',
        chargeAmount: resource.amount ?? undefined,
        currency: resource.amount ? resource.currency : undefined,
        description: resource.description ?? undefined,
        securityCode: internals.twilio.securityCode,
        postalCode: internals.twilio.postalCode,
        validCardTypes: internals.twilio.validCardTypes?.join(' '),
        tokenType: resource.amount ? undefined : 'reusable',
        parameter: internals.twilio.parameters,
        requireMatchingInputs: internals.twilio.requireMatchingInputs?.map((field) => TWILIO_FIELDS[field].capture).join(','),
        confirmation: internals.twilio.confirmation,
      });
      return await this.change(resource.id, { kind: 'twilio-accepted', paymentSid }, 'twilio');
    } catch (error) {
      if (!(error instanceof TwilioRefused || error instanceof TwilioUnavailable)) throw error;
      const code = error instanceof TwilioRefused ? error.twilioCode : null;
      return this.change(resource.id, { kind: 'twilio-refused', code, message: error.message }, 'twilio');
    }
  }

  /**
   * Update Payment. The IdempotencyKey is the session's id and version with the action: a network
   * retry of this request repeats it, an agent's re-request (the session has changed since) is new.
   */
  private async callTwilio(record: SessionRecord, action: string, update: { capture?: string; status?: 'complete' | 'cancel' }): Promise<void> {
    await this.options.twilio.update(record.resource.call_sid!, record.internals.paymentSid!, {
      idempotencyKey: `${record.resource.id}-${record.version}-${action}`,
      statusCallback: this.statusCallback(record.resource.id),
      ...update,
    });
  }

  private statusCallback(id: string): string {
    return `${this.options.publicUrl.replace(/\/+$/, '')}/twilio/sessions/${id}/status`;
  }

  private async announce(clientId: string, before: SessionRecord | undefined, after: SessionRecord): Promise<void> {
    await this.options.events.changed(after.resource, after.version).catch((error: unknown) => {
      this.options.logger.warn('session change not announced to other replicas', { session_id: after.resource.id, error_type: (error as Error)?.name });
    });
    if (after.resource.state !== before?.resource.state) {
      this.options.logger.info('session', { session_id: after.resource.id, client_id: clientId, state: after.resource.state, call_sid: after.resource.call_sid });
    }
  }
}

function historyOf(record: SessionRecord, actor: Actor, action: string, detail?: string): HistoryEntry {
  return { version: record.version, at: record.resource.updated_at, actor, action, state: record.resource.state, detail };
}

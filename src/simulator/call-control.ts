import { IvrPay } from './ivr-pay';
import type { ConnectorConfig } from './connector-call';
import { positiveNumberOr, readPayOptions } from './pay-options';
import type { PendingWork } from './pending-work';
import type { SignedRequests } from './signed-requests';
import { DEFAULT_CALLED, DEFAULT_CALLER, SimulatedCall } from './call';
import { readTwiml, TwimlError, type PayTwiml, type TwimlVerb } from './twiml';
import { TwilioError, notFound, sessionInProgress } from './twilio-error';
import type { CaptureField } from './card-rules';

/** Where a call's next TwiML comes from: a URL Twilio fetches (signed), or a document given inline. */
export type TwimlSource = { kind: 'fetch'; url: string; method: 'GET' | 'POST'; parameters?: Record<string, string> } | { kind: 'document'; twiml: string };

export interface CallControlOptions {
  connectors: Record<string, ConnectorConfig>;
  requests: SignedRequests;
  work: PendingWork;
  connectorTiming: { waitMs: number; retries: number };
}

/** What Twilio says to the caller when an app's TwiML cannot be fetched or read. */
const APPLICATION_ERROR = 'We are sorry, an application error has occurred. Goodbye.';

/**
 * The simulated calls and what they run: live call control (a redirect to a URL or to inline
 * TwiML), the verbs `<Say>`, `<Play>`, `<Pause>`, `<Pay>`, `<Redirect>` and `<Hangup>`, and after
 * a `<Pay>` the TwiML its action request answers, as on Twilio. A call whose TwiML runs out
 * hangs up, as on Twilio; a call that never ran TwiML (an agent's call) stays up.
 */
export class CallControl {
  private readonly calls = new Map<string, SimulatedCall>();

  constructor(private readonly options: CallControlOptions) {}

  create(details: { accountSid: string; from?: string; to?: string; sid?: string }): SimulatedCall {
    const call = new SimulatedCall(details.sid ?? SimulatedCall.newSid(), details.accountSid, details.from || DEFAULT_CALLER, details.to || DEFAULT_CALLED);
    this.calls.set(call.sid, call);
    return call;
  }

  get(callSid: string): SimulatedCall | undefined {
    return this.calls.get(callSid);
  }

  /** A call the simulator has not seen yet (a Payments API session started on any CallSid) is taken as up. */
  ensure(callSid: string, accountSid: string): SimulatedCall {
    return this.calls.get(callSid) ?? this.create({ sid: callSid, accountSid });
  }

  /** Live call control: what the call was running stops, and the new TwiML runs. */
  redirect(call: SimulatedCall, source: TwimlSource): void {
    if (call.status !== 'in-progress') throw new TwilioError(400, 21220, 'Call is not in-progress. Cannot redirect.');
    const generation = this.nextGeneration(call);
    this.options.work.track(this.run(call, generation, source));
  }

  /** The simulator's direct `<Pay>` endpoint: runs one `<Pay>` on the call, then what its action answers. */
  runPay(call: SimulatedCall, pay: PayTwiml): void {
    if (call.isPaying) throw sessionInProgress();
    const actionUrl = pay.attributes.action;
    if (!actionUrl) throw new TwilioError(400, 21218, 'Missing required attribute action');
    // Checked and started first: a <Pay> Twilio would refuse leaves whatever the call was doing alone.
    const ivr = this.startPay(call, pay, undefined);
    call.generation += 1;
    const generation = call.generation;
    this.options.work.track(
      this.afterPay(call, generation, ivr, actionUrl).then((next) => (next ? this.run(call, generation, next) : undefined)),
    );
  }

  hangUp(call: SimulatedCall, reason: string): void {
    if (call.status === 'completed') return;
    call.status = 'completed';
    // A <Pay> still reports to its action (Result=caller-hung-up); a session to its StatusCallback.
    call.pay?.hangUp();
    if (call.session && call.session.state !== 'ended') call.session.hangUp();
    call.record({ type: 'hangup', reason });
  }

  private nextGeneration(call: SimulatedCall): number {
    call.generation += 1;
    // A <Pay> interrupted by a redirect ends without an action request, as the call has moved on.
    if (call.pay && !call.pay.ended) {
      call.pay.abandon();
      call.record({ type: 'pay-ended', result: 'redirected' });
    }
    return call.generation;
  }

  private isCurrent(call: SimulatedCall, generation: number): boolean {
    return call.generation === generation && call.status === 'in-progress';
  }

  private async run(call: SimulatedCall, generation: number, first: TwimlSource): Promise<void> {
    let source: TwimlSource | undefined = first;
    while (source && this.isCurrent(call, generation)) {
      const document = await this.documentOf(call, source);
      if (!this.isCurrent(call, generation)) return;
      if (!document) return this.applicationError(call, 11200, 'HTTP retrieval failure');
      let verbs: TwimlVerb[];
      try {
        verbs = readTwiml(document.text);
      } catch (error) {
        if (error instanceof TwimlError) return this.applicationError(call, 12100, `Document parse failure: ${error.message}`);
        throw error;
      }
      source = await this.runVerbs(call, generation, verbs, document.url);
    }
  }

  /** Runs verbs in order; answers where the call goes next (a redirect, a <Pay> action), if anywhere. */
  private async runVerbs(call: SimulatedCall, generation: number, verbs: TwimlVerb[], documentUrl: string | undefined): Promise<TwimlSource | undefined> {
    for (const verb of verbs) {
      if (!this.isCurrent(call, generation)) return undefined;
      switch (verb.verb) {
        case 'Say':
          call.record({ type: 'say', text: verb.text });
          break;
        case 'Play':
          call.record({ type: 'play', url: verb.url });
          break;
        case 'Pause':
          // Recorded, not waited for: a simulated caller has nothing to hear in the silence.
          call.record({ type: 'pause', seconds: verb.seconds });
          break;
        case 'Hangup':
          this.hangUp(call, 'hangup-verb');
          return undefined;
        case 'Redirect': {
          const url = resolveUrl(verb.url, documentUrl);
          if (!url) return this.applicationError(call, 11100, `Invalid URL in <Redirect>: ${verb.url}`);
          call.record({ type: 'redirect', to: url });
          return { kind: 'fetch', url, method: verb.method };
        }
        case 'Pay':
          return this.payStep(call, generation, verb.pay, documentUrl);
        case 'Unsupported':
          call.record({ type: 'unsupported-verb', verb: verb.name });
          break;
      }
    }
    this.hangUp(call, 'end-of-twiml');
    return undefined;
  }

  /** `<Pay>` in a document: its action defaults to the document's own URL, as on Twilio. */
  private async payStep(call: SimulatedCall, generation: number, pay: PayTwiml, documentUrl: string | undefined): Promise<TwimlSource | undefined> {
    const actionUrl = resolveUrl(pay.attributes.action ?? documentUrl ?? '', documentUrl);
    if (!actionUrl) return this.applicationError(call, 64016, 'Invalid <Pay> action URL');
    let ivr: IvrPay;
    try {
      ivr = this.startPay(call, pay, documentUrl);
    } catch (error) {
      if (!(error instanceof TwilioError)) throw error;
      // A <Pay> Twilio cannot run is reported to its action, and the call goes on with the answer.
      const fields = { ...call.voiceParameters(), Result: 'validation-error', PayErrorCode: String(error.code), PaymentError: error.message };
      return { kind: 'fetch', url: actionUrl, method: 'POST', parameters: fields };
    }
    return this.afterPay(call, generation, ivr, actionUrl);
  }

  private async afterPay(call: SimulatedCall, generation: number, ivr: IvrPay, actionUrl: string): Promise<TwimlSource | undefined> {
    const fields = await ivr.done;
    if (!fields || call.generation !== generation) return undefined;
    call.record({ type: 'pay-ended', result: fields.Result ?? '' });
    const parameters = { ...call.voiceParameters(), ...fields };
    if (call.status !== 'in-progress') {
      // The caller hung up: the action still learns it (Result=caller-hung-up); nothing runs after.
      await this.documentOf(call, { kind: 'fetch', url: actionUrl, method: 'POST', parameters });
      return undefined;
    }
    return { kind: 'fetch', url: actionUrl, method: 'POST', parameters };
  }

  private startPay(call: SimulatedCall, pay: PayTwiml, documentUrl: string | undefined): IvrPay {
    if (call.isPaying) throw sessionInProgress();
    const requireMatchingInputs = pay.prompts
      .filter((prompt) => prompt.requireMatchingInputs && prompt.for !== 'payment-processing')
      .map((prompt) => prompt.for as CaptureField);
    const options = readPayOptions({ dialect: 'twiml', values: pay.attributes, connectors: this.options.connectors, parameters: pay.parameters, requireMatchingInputs });
    const statusCallback = pay.attributes.statusCallback ? resolveUrl(pay.attributes.statusCallback, documentUrl) : undefined;
    call.record({ type: 'pay-started' });
    const ivr = new IvrPay(
      {
        ...options,
        accountSid: call.accountSid,
        callSid: call.sid,
        statusCallback,
        maxAttempts: Math.floor(positiveNumberOr(pay.attributes.maxAttempts, 1, { min: 1, max: 3 })),
        prompts: pay.prompts,
      },
      {
        notify: (url, fields) => this.options.requests.post(url, fields),
        say: (text) => call.record({ type: 'say', text }),
        connectorTiming: this.options.connectorTiming,
      },
    );
    call.pay = ivr;
    this.options.work.trackFlow(ivr);
    return ivr;
  }

  /** The TwiML of a source: fetched (signed, with the call's parameters) or inline. */
  private async documentOf(call: SimulatedCall, source: TwimlSource): Promise<{ text: string; url?: string } | undefined> {
    if (source.kind === 'document') return { text: source.twiml };
    const parameters = source.parameters ?? call.voiceParameters();
    try {
      const answer = source.method === 'GET' ? await this.options.requests.get(source.url, parameters) : await this.options.requests.post(source.url, parameters);
      call.record({ type: 'fetch', url: source.url, method: source.method, status: answer.status });
      return answer.status >= 200 && answer.status < 300 ? { text: answer.body, url: source.url } : undefined;
    } catch {
      call.record({ type: 'fetch', url: source.url, method: source.method });
      return undefined;
    }
  }

  private applicationError(call: SimulatedCall, code: number, message: string): undefined {
    call.record({ type: 'error', code, message });
    call.record({ type: 'say', text: APPLICATION_ERROR });
    this.hangUp(call, 'application-error');
    return undefined;
  }
}

export function lookUpCall(control: CallControl, callSid: string, accountSid?: string): SimulatedCall {
  const call = control.get(callSid);
  if (!call || (accountSid !== undefined && call.accountSid !== accountSid)) throw notFound();
  return call;
}

/** An absolute http(s) URL, or one relative to the document it appears in; undefined if neither. */
export function resolveUrl(url: string, base: string | undefined): string | undefined {
  try {
    const resolved = new URL(url, base);
    return resolved.protocol === 'http:' || resolved.protocol === 'https:' ? resolved.toString() : undefined;
  } catch {
    return undefined;
  }
}

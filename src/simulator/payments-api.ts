import type { Express, Request } from 'express';
import type { CallControl } from './call-control';
import type { ConnectorConfig } from './connector-call';
import { isCaptureField, parseParameters, readPayOptions } from './pay-options';
import { fieldOfMatcher } from './required-fields';
import { formField, type RestAuthentication } from './rest-auth';
import { PaySession, rfc2822 } from './session';
import type { PendingWork } from './pending-work';
import type { SignedRequests } from './signed-requests';
import { TwilioError, notFound, sessionInProgress } from './twilio-error';

export interface PaymentsApiOptions {
  auth: RestAuthentication;
  calls: CallControl;
  connectors: Record<string, ConnectorConfig>;
  requests: SignedRequests;
  work: PendingWork;
  connectorTiming: { waitMs: number; retries: number };
}

/**
 * The agent-assisted Payments API: Create answers 201 and Update 202 with the payment
 * resource, as Twilio's OpenAPI description says; progress and results go to StatusCallback.
 */
export function paymentsApi(app: Express, options: PaymentsApiOptions): void {
  const sessions = new Map<string, PaySession>();
  const idempotent = new Map<string, object>();
  const base = '/2010-04-01/Accounts/:accountSid/Calls/:callSid/Payments';

  const requiredFields = (req: Request) => {
    const key = formField(req, 'IdempotencyKey');
    const callback = formField(req, 'StatusCallback');
    if (!key) throw new TwilioError(400, 21218, 'Missing required parameter IdempotencyKey');
    if (!callback) throw new TwilioError(400, 21218, 'Missing required parameter StatusCallback');
    return { key, callback };
  };
  const resource = (session: PaySession) => ({
    account_sid: session.settings.accountSid,
    call_sid: session.settings.callSid,
    sid: session.sid,
    date_created: rfc2822(session.createdAt),
    date_updated: rfc2822(session.updatedAt),
    uri: `/2010-04-01/Accounts/${session.settings.accountSid}/Calls/${session.settings.callSid}/Payments/${session.sid}.json`,
  });
  // An IdempotencyKey is the client's for one resource: a Create's key counts within its
  // account and call, an Update's within its account, call and payment. Another call reusing
  // a key gets its own answer, never this one. An error is not kept, so a retry is re-judged.
  const once = (scope: string[], answer: () => object): object => {
    const key = JSON.stringify(scope);
    const kept = idempotent.get(key) ?? answer();
    idempotent.set(key, kept);
    return kept;
  };

  app.post(`${base}.json`, (req, res) => {
    const { accountSid, callSid } = options.auth.call(req);
    const { key, callback } = requiredFields(req);
    const answer = once(['create', accountSid, callSid, key], () => {
      const call = options.calls.ensure(callSid, accountSid);
      if (call.isPaying) throw sessionInProgress();
      const values = Object.fromEntries(Object.entries(req.body as Record<string, unknown>).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
      const payOptions = readPayOptions({ dialect: 'payments-api', values, connectors: options.connectors, parameters: parseParameters(values.Parameter) });
      const session = new PaySession(
        { ...payOptions, accountSid, callSid, statusCallback: callback },
        {
          notify: (url, fields) => options.requests.post(url, fields),
          say: (text) => call.record({ type: 'say', text }),
          connectorWaitMs: options.connectorTiming.waitMs,
          connectorRetries: options.connectorTiming.retries,
        },
      );
      sessions.set(session.sid, session);
      options.work.trackFlow(session);
      call.session = session;
      return resource(session);
    });
    res.status(201).json(answer);
  });

  app.post(`${base}/:sid.json`, (req, res) => {
    const { accountSid, callSid } = options.auth.call(req);
    const { key, callback } = requiredFields(req);
    const session = sessions.get(String(req.params.sid));
    if (!session || session.settings.accountSid !== accountSid || session.settings.callSid !== callSid) throw notFound();
    const answer = once(['update', accountSid, callSid, session.sid, key], () => {
      const capture = formField(req, 'Capture');
      const status = formField(req, 'Status');
      // While the caller is asked to confirm, the agent may still cancel; nothing else.
      const cancelWhileConfirming = session.state === 'confirming' && !capture && status === 'cancel';
      if (session.state !== 'active' && !cancelWhileConfirming) {
        throw new TwilioError(400, 64021, `Invalid operation: the pay session ${session.state === 'ended' ? 'has ended' : `is ${session.state === 'confirming' ? 'waiting for the caller to confirm' : 'being completed'}`}`);
      }
      session.settings.statusCallback = callback;
      if (capture) captureField(session, capture);
      else if (status === 'complete') {
        if (!session.isReadyToComplete()) throw new TwilioError(400, 64019, 'Required payment information incomplete');
        session.complete();
      } else if (status === 'cancel') session.cancel();
      else throw new TwilioError(400, 64018, 'Capture or Status (complete, cancel) is required');
      return resource(session);
    });
    res.status(202).json(answer);
  });
}

function captureField(session: PaySession, capture: string): void {
  const matched = fieldOfMatcher(capture);
  if (matched !== undefined) {
    if (!session.settings.requireMatchingInputs.includes(matched)) throw new TwilioError(400, 64020, `Capture ${capture} needs ${matched} in RequireMatchingInputs`);
    session.captureMatcher(matched);
    return;
  }
  if (!isCaptureField(capture)) throw new TwilioError(400, 64020, `Capture ${capture} is not a payment field`);
  if (!session.accepts(capture)) throw new TwilioError(400, 64013, `Capture ${capture} is not valid for this payment method`);
  session.capture(capture);
}

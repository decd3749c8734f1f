import type { Express, Request } from 'express';
import { ACCOUNT_SID, CALL_SID, DEFAULT_ACCOUNT_SID, type SimulatedCall } from './call';
import { lookUpCall, type CallControl } from './call-control';
import { parseParameters } from './pay-options';
import { formField, type RestAuthentication } from './rest-auth';
import { rfc2822 } from './session';
import { readPayTwiml, TwimlError, type PayTwiml } from './twiml';
import { TwilioError, notFound } from './twilio-error';

/**
 * Calls: live call control as Twilio's API has it (`POST .../Calls/{CallSid}.json` with `Url`
 * and `Method`, or `Twiml`, or `Status=completed`), and the simulator's own endpoints a test or
 * a demo uses to play the phone network and the caller: create a call, run a `<Pay>` on it,
 * press keys, hang up, read what happened.
 */
export function callsApi(app: Express, options: { auth: RestAuthentication; calls: CallControl }): void {
  const { calls } = options;

  app.post('/2010-04-01/Accounts/:accountSid/Calls/:callSid.json', (req, res) => {
    const { accountSid, callSid } = options.auth.call(req);
    const call = lookUpCall(calls, callSid, accountSid);
    const url = formField(req, 'Url');
    const twiml = formField(req, 'Twiml');
    const status = formField(req, 'Status');
    if (status === 'completed' || status === 'canceled') {
      calls.hangUp(call, 'completed-by-api');
    } else if (status !== undefined) {
      throw new TwilioError(400, 21218, 'Status must be completed or canceled');
    } else if (twiml) {
      calls.redirect(call, { kind: 'document', twiml });
    } else if (url) {
      calls.redirect(call, { kind: 'fetch', url: absoluteUrl(url), method: methodOf(formField(req, 'Method')) });
    } else {
      throw new TwilioError(400, 21218, 'Url, Twiml or Status is required');
    }
    res.status(200).json(callResource(call));
  });

  // A call for tests and demos: the caller (From) rings the merchant's number (To).
  app.post('/simulator/calls', (req, res) => {
    const accountSid = formField(req, 'AccountSid') || DEFAULT_ACCOUNT_SID;
    if (!ACCOUNT_SID.test(accountSid)) throw new TwilioError(400, 21218, 'AccountSid must be AC followed by 32 hex digits');
    const call = calls.create({ accountSid, from: formField(req, 'From'), to: formField(req, 'To') });
    const url = formField(req, 'Url');
    const twiml = formField(req, 'Twiml');
    if (twiml) calls.redirect(call, { kind: 'document', twiml });
    else if (url) calls.redirect(call, { kind: 'fetch', url: absoluteUrl(url), method: methodOf(formField(req, 'Method')) });
    res.status(201).json({
      CallSid: call.sid,
      AccountSid: call.accountSid,
      From: call.from,
      To: call.to,
      Status: call.status,
      PhonePage: `/simulator/phone/${call.sid}`,
    });
  });

  app.get('/simulator/calls/:callSid/events', (req, res) => {
    const call = calls.get(String(req.params.callSid));
    res.json({ call_sid: String(req.params.callSid), status: call?.status ?? null, events: call?.events ?? [] });
  });

  // An IVR call flow reaching a <Pay> verb: the TwiML an IVR app returns to Twilio (text/xml), or
  // the verb's attributes as form fields with `parameters` as a JSON object.
  app.post('/simulator/calls/:callSid/pay', (req, res) => {
    const callSid = String(req.params.callSid);
    if (!CALL_SID.test(callSid)) throw notFound();
    const pay = payVerbOf(req);
    const existing = calls.get(callSid);
    const call = existing ?? calls.create({ sid: callSid, accountSid: pay.attributes.AccountSid ?? DEFAULT_ACCOUNT_SID });
    calls.runPay(call, pay);
    res.status(201).json({ call_sid: callSid, events: call.events });
  });

  // The caller's keypad and phone. Digits are never echoed: the answer is empty.
  app.post('/simulator/calls/:callSid/dtmf', (req, res) => {
    const digits = formField(req, 'Digits') ?? '';
    if (!/^[0-9#*]+$/.test(digits)) throw new TwilioError(400, 21218, 'Digits may hold 0-9, # and * only');
    listenerOf(calls.get(String(req.params.callSid))).keypad(digits);
    res.status(204).end();
  });
  app.post('/simulator/calls/:callSid/hangup', (req, res) => {
    const call = calls.get(String(req.params.callSid));
    if (!call) throw notFound();
    calls.hangUp(call, 'caller-hung-up');
    res.status(204).end();
  });
}

/** Who hears the keypad: a running `<Pay>`, else a Payments session capturing or asking to confirm. */
function listenerOf(call: SimulatedCall | undefined): { keypad(keys: string): void } {
  if (call?.pay && !call.pay.ended) return call.pay;
  const session = call?.session;
  if (session && (session.state === 'active' || session.state === 'confirming')) return session;
  throw new TwilioError(409, 64021, 'Nothing on this call is listening for keys');
}

function methodOf(method: string | undefined): 'GET' | 'POST' {
  if (method === undefined || method === '' || method.toUpperCase() === 'POST') return 'POST';
  if (method.toUpperCase() === 'GET') return 'GET';
  throw new TwilioError(400, 21218, 'Method must be GET or POST');
}

function absoluteUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return url;
  } catch {
    // answered below
  }
  throw new TwilioError(400, 21205, 'Url is not a valid URL');
}

/** The `<Pay>` verb of a request: a TwiML document, or its attributes as form fields. */
function payVerbOf(req: Request): PayTwiml {
  if (typeof req.body === 'string') {
    try {
      return readPayTwiml(req.body);
    } catch (error) {
      if (error instanceof TwimlError) throw new TwilioError(400, 12100, `Document parse failure: ${error.message}`);
      throw error;
    }
  }
  const fields = (req.body ?? {}) as Record<string, unknown>;
  const attributes = Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  return { attributes, parameters: parseParameters(attributes.parameters), prompts: [] };
}

/** The call resource, as Twilio's API answers it (api.v2010.account.call). */
export function callResource(call: SimulatedCall): Record<string, unknown> {
  const uri = `/2010-04-01/Accounts/${call.accountSid}/Calls/${call.sid}.json`;
  const ended = call.status === 'completed';
  return {
    sid: call.sid,
    date_created: rfc2822(call.createdAt),
    date_updated: rfc2822(call.updatedAt),
    parent_call_sid: null,
    account_sid: call.accountSid,
    to: call.to,
    to_formatted: call.to,
    from: call.from,
    from_formatted: call.from,
    phone_number_sid: null,
    status: call.status,
    start_time: rfc2822(call.createdAt),
    end_time: ended ? rfc2822(call.updatedAt) : null,
    duration: ended ? String(Math.round((call.updatedAt.getTime() - call.createdAt.getTime()) / 1000)) : null,
    price: null,
    price_unit: 'USD',
    direction: 'inbound',
    answered_by: null,
    api_version: '2010-04-01',
    forwarded_from: null,
    group_sid: null,
    caller_name: null,
    queue_time: '0',
    trunk_sid: null,
    uri,
    subresource_uris: {
      notifications: uri.replace(/\.json$/, '/Notifications.json'),
      recordings: uri.replace(/\.json$/, '/Recordings.json'),
      payments: uri.replace(/\.json$/, '/Payments.json'),
    },
  };
}

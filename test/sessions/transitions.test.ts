import { CallerIsPaying, CardNumberFirst, FieldNotInSession, FieldsMissing, NotAnAgentSession, SessionEnded, SessionNotCapturing, SessionProcessing } from '../../src/errors';
import { emptyField, fieldsToCollect, type SessionRecord } from '../../src/sessions/session';
import { apply, type SessionEvent } from '../../src/sessions/transitions';
import { readTwilioStatus } from '../../src/sessions/twilio-status';

/** The session's state machine on its own: events in, the session out, every refusal a 409 of its own. */
const NOW = new Date('2026-11-30T12:00:00Z');

function session(overrides: Partial<SessionRecord['resource']> = {}): SessionRecord {
  const fields = fieldsToCollect(overrides.payment_method ?? 'card', { securityCode: true, postalCode: true });
  return {
    clientId: 'crm',
    version: 1,
    internals: { twilio: { connector: 'Default', securityCode: true, postalCode: true, parameters: {} } },
    resource: {
      id: 'ps_00000000000000000000000000000001',
      type: 'agent',
      state: 'created',
      reference: 'order-1',
      amount: '10.00',
      currency: 'USD',
      payment_method: 'card',
      call_sid: 'CA00000000000000000000000000000001',
      connector: 'Default',
      description: null,
      customer: null,
      created_at: NOW.toISOString(),
      updated_at: NOW.toISOString(),
      expires_at: NOW.toISOString(),
      fields: Object.fromEntries(fields.map((field) => [field, emptyField()])),
      required: [...fields],
      result: null,
      ...overrides,
    },
  };
}

const run = (record: SessionRecord, ...events: SessionEvent[]) => events.reduce((current, event) => apply(current, event, NOW).record, record);
const status = (form: Record<string, string>): SessionEvent => ({ kind: 'twilio-status', status: readTwilioStatus(form) });
const capturing = () => run(session(), { kind: 'twilio-accepted', paymentSid: 'PK1' });

test('when Twilio accepts the pay session, then the session captures, and the version grows with each change', () => {
  const record = capturing();
  expect(record.resource.state).toBe('capturing');
  expect(record.internals.paymentSid).toBe('PK1');
  expect(record.version).toBe(2);
});

test('when the caller types, then the field shows how many digits, never which; a bad number is invalid; a good one is masked', () => {
  let record = run(capturing(), { kind: 'capture-requested', field: 'card_number' });
  expect(record.resource.fields.card_number).toEqual({ state: 'capturing', display: null, length: 0, error: null });
  record = run(record, status({ Capture: 'payment-card-number', PartialResult: 'true', PaymentCardNumber: 'xxxxxx' }));
  expect(record.resource.fields.card_number).toEqual({ state: 'capturing', display: null, length: 6, error: null });
  record = run(record, status({ Capture: 'payment-card-number', PartialResult: 'false', ErrorType: 'invalid-card-number' }));
  expect(record.resource.fields.card_number).toEqual({ state: 'invalid', display: null, length: 0, error: 'invalid-card-number' });
  record = run(
    record,
    { kind: 'capture-requested', field: 'card_number' },
    status({ Capture: 'payment-card-number', PartialResult: 'false', PaymentCardNumber: 'xxxx xxxx xxxx 1111', Required: 'ExpirationDate,SecurityCode,PostalCode' }),
  );
  expect(record.resource.fields.card_number).toEqual({ state: 'captured', display: 'xxxx xxxx xxxx 1111', length: 16, error: null });
  expect(record.resource.required).toEqual(['expiry', 'security_code', 'postal_code']);
});

test('when Twilio shows a routing number in clear or an expiry, then the session keeps only this service\'s masks', () => {
  let record = run(session({ payment_method: 'ach', fields: { routing_number: emptyField(), account_number: emptyField() }, required: ['routing_number', 'account_number'] }), {
    kind: 'twilio-accepted',
    paymentSid: 'PK1',
  });
  record = run(record, status({ Capture: 'bank-routing-number', PartialResult: 'false', BankRoutingNumber: '244183602' }));
  expect(record.resource.fields.routing_number?.display).toBe('*****3602');
  expect(JSON.stringify(record)).not.toContain('244183602');
  const card = run(capturing(), { kind: 'capture-requested', field: 'expiry' }, status({ Capture: 'expiration-date', PartialResult: 'false', ExpirationDate: '1230' }));
  expect(card.resource.fields.expiry?.display).toBe('xxxx');
});

test.each([
  ['a capture before Twilio started', session(), { kind: 'capture-requested', field: 'card_number' }, SessionNotCapturing],
  ['a bank field on a card session', capturing(), { kind: 'capture-requested', field: 'routing_number' }, FieldNotInSession],
  ['the security code before the card number', capturing(), { kind: 'capture-requested', field: 'security_code' }, CardNumberFirst],
  ['complete with fields missing', capturing(), { kind: 'complete-requested' }, FieldsMissing],
  ['cancel while processing', run(capturing(), status({ Required: '' }), { kind: 'complete-requested' }), { kind: 'cancelled' }, SessionProcessing],
  ['cancel once cancelled', run(capturing(), { kind: 'cancelled' }), { kind: 'cancelled' }, SessionEnded],
] as Array<[string, SessionRecord, SessionEvent, new (message: string) => Error]>)('when %s is asked, then it is refused with its own 409', (_label, record, event, refusal) => {
  expect(() => apply(record, event, NOW)).toThrow(refusal);
});

test('when every field is in and the agent completes, then processing; a success callback ends it with the confirmation code', () => {
  let record = run(capturing(), status({ Required: '' }), { kind: 'complete-requested' });
  expect(record.resource.state).toBe('processing');
  record = run(record, status({ Result: 'success', PaymentConfirmationCode: '000000000042', Required: '' }));
  expect(record.resource.state).toBe('succeeded');
  expect(record.resource.result).toEqual({ charge_id: '000000000042', error_code: null, error_message: null, twilio_error_code: null });
});

test('when a decline is called back, then failed with the connector\'s code and Twilio\'s', () => {
  const record = run(
    capturing(),
    status({ Required: '' }),
    { kind: 'complete-requested' },
    status({ Result: 'payment-connector-error', ConnectorError: '30002', PayErrorCode: '64008', PaymentError: 'DECLINED' }),
  );
  expect(record.resource.state).toBe('failed');
  expect(record.resource.result).toEqual({ charge_id: null, error_code: '30002', error_message: 'DECLINED', twilio_error_code: '64008' });
});

test('when callbacks come twice or after the end, then a final state never goes back and nothing changes', () => {
  const ended = run(capturing(), status({ Required: '' }), { kind: 'complete-requested' }, status({ Result: 'success', PaymentConfirmationCode: 'c1' }));
  for (const late of [status({ Capture: 'payment-card-number', PartialResult: 'true', PaymentCardNumber: 'xx' }), status({ Result: 'payment-connector-error' }), { kind: 'expired' } as SessionEvent]) {
    const transition = apply(ended, late, NOW);
    expect(transition.changed).toBe(false);
    expect(transition.record).toBe(ended);
  }
});

test('when a tokenize session succeeds, then its result carries the token, and a caller\'s star or hang-up cancels', () => {
  const tokenized = run(session({ amount: null }), { kind: 'twilio-accepted', paymentSid: 'PK1' }, status({ Required: '' }), { kind: 'complete-requested' }, status({ Result: 'success', PaymentToken: 'tok_1' }));
  expect(tokenized.resource.result).toMatchObject({ token_id: 'tok_1' });
  expect(run(capturing(), status({ Result: 'caller-hung-up' })).resource.state).toBe('cancelled');
});

test('when the session expires, then only one still collecting expires; a processing one waits for its result', () => {
  expect(run(capturing(), { kind: 'expired' }).resource.state).toBe('expired');
  const processing = run(capturing(), status({ Required: '' }), { kind: 'complete-requested' });
  expect(apply(processing, { kind: 'expired' }, NOW).changed).toBe(false);
});

describe('IVR sessions', () => {
  const ivr = () => session({ type: 'ivr', call_sid: null });
  const started = () => run(ivr(), { kind: 'pay-started', callSid: 'CA00000000000000000000000000000009', expiresAt: '2026-11-30T12:15:00.000Z' });
  const payStatus = (form: Record<string, string>): SessionEvent => status(form);
  const ended = (form: Record<string, string>, transactionId: string | null = null): SessionEvent => ({ kind: 'pay-ended', status: readTwilioStatus(form), transactionId });

  test('when Twilio fetches the TwiML, then the session captures on that call until its <Pay> time is up; a second fetch changes nothing', () => {
    const record = started();
    expect(record.resource).toMatchObject({ state: 'capturing', call_sid: 'CA00000000000000000000000000000009', expires_at: '2026-11-30T12:15:00.000Z' });
    expect(apply(record, { kind: 'pay-started', callSid: 'CA00000000000000000000000000000008', expiresAt: '2026-11-30T13:00:00.000Z' }, NOW).changed).toBe(false);
    // An agent session is never started by a TwiML fetch.
    expect(apply(session(), { kind: 'pay-started', callSid: null, expiresAt: NOW.toISOString() }, NOW).changed).toBe(false);
  });

  test("when <Pay>'s callbacks name the field with For, then it is captured or invalid, and no longer required once captured", () => {
    let record = run(started(), payStatus({ For: 'payment-card-number', Attempt: '1', ErrorType: 'invalid-card-number' }));
    expect(record.resource.fields.card_number).toMatchObject({ state: 'invalid', error: 'invalid-card-number' });
    record = run(record, payStatus({ For: 'payment-card-number', Attempt: '2', PaymentCardNumber: 'xxxxxxxxxxxx1111' }));
    expect(record.resource.fields.card_number).toMatchObject({ state: 'captured', display: 'xxxx xxxx xxxx 1111', length: 16 });
    expect(record.resource.required).toEqual(['expiry', 'security_code', 'postal_code']);
    record = run(record, payStatus({ For: 'payment-processing', Attempt: '1' }));
    expect(record.resource.state).toBe('processing');
  });

  test('when the <Pay> action comes, then the session ends as the <Pay> did, with the journal record and the connector parameters', () => {
    const success = run(started(), ended({ Result: 'success', PaymentConfirmationCode: '000000000042', PayConnector_auth_code: 'A1B2', PayConnector_leak: '4111 1111 1111 1111' }, 'CA1-tx'));
    expect(success.resource).toMatchObject({ state: 'succeeded', result: { charge_id: '000000000042', transaction_id: 'CA1-tx', connector_parameters: { auth_code: 'A1B2' } } });
    // A run of digits in a connector's parameters is never kept.
    expect(JSON.stringify(success.resource)).not.toContain('4111');
    expect(run(started(), ended({ Result: 'caller-interrupted-with-star' })).resource.state).toBe('cancelled');
    expect(run(started(), ended({ Result: 'caller-hung-up' })).resource.state).toBe('cancelled');
    expect(run(started(), ended({ Result: 'too-many-failed-attempts', PaymentError: 'invalid-card-number' })).resource).toMatchObject({ state: 'failed', result: { error_code: 'too-many-failed-attempts' } });
    expect(run(started(), ended({ Result: 'payment-connector-error', ConnectorError: '30002', PayErrorCode: '64008' })).resource).toMatchObject({ state: 'failed', result: { error_code: '30002', twilio_error_code: '64008' } });
    // The caller hangs up before the TwiML was even fetched: the action still ends the session.
    expect(run(ivr(), ended({ Result: 'caller-hung-up' })).resource.state).toBe('cancelled');
    // Late, repeated or empty: nothing changes.
    const done = run(started(), ended({ Result: 'success', PaymentConfirmationCode: '1' }));
    expect(apply(done, ended({ Result: 'caller-hung-up' }), NOW).changed).toBe(false);
    expect(apply(started(), ended({}), NOW).changed).toBe(false);
  });

  test("when an agent's action is asked of an IVR session, then NOT_AN_AGENT_SESSION; cancel only before the caller pays", () => {
    expect(() => apply(started(), { kind: 'capture-requested', field: 'card_number' }, NOW)).toThrow(NotAnAgentSession);
    expect(() => apply(started(), { kind: 'complete-requested' }, NOW)).toThrow(NotAnAgentSession);
    expect(() => apply(started(), { kind: 'cancelled' }, NOW)).toThrow(CallerIsPaying);
    expect(run(ivr(), { kind: 'cancelled' }).resource.state).toBe('cancelled');
  });

  test('when its <Pay> time is up without the action, then it settles from the journal even while capturing (an agent session does not)', () => {
    const result = { charge_id: '000000000043', error_code: null, error_message: null, twilio_error_code: null };
    expect(run(started(), { kind: 'settled-from-journal', approved: true, result }).resource).toMatchObject({ state: 'succeeded', result });
    expect(apply(capturing(), { kind: 'settled-from-journal', approved: true, result }, NOW).changed).toBe(false);
  });
});

describe('digital sessions', () => {
  const digital = (allowed = 3) => {
    const record = session({ type: 'digital', call_sid: null, connector: 'payconex', sms: null, customer_present: false, attempts: { made: 0, allowed } });
    record.internals.digital = { nextAttempt: 1 };
    return record;
  };
  const declined = { charge_id: null, error_code: '30002', error_message: 'CARD DECLINED', twilio_error_code: null, transaction_id: 'ps_1:1', card_brand: 'visa', last4: '0002' };
  const approved = { charge_id: '000000000044', error_code: null, error_message: null, twilio_error_code: null, transaction_id: 'ps_1:2', card_brand: 'visa', last4: '1111' };

  test('when the page beats, then the customer is present and each field shows how many characters (never which); only a change of presence is history', () => {
    const first = apply(digital(), { kind: 'customer-seen', until: 1000, typed: { card_number: 6, expiry: 0 } }, NOW);
    expect(first.record.resource).toMatchObject({ state: 'capturing', customer_present: true, fields: { card_number: { state: 'capturing', length: 6, display: null }, expiry: { state: 'empty', length: 0 } } });
    expect(first.record.internals.digital!.presenceUntil).toBe(1000);
    expect(first.historic).toBe(true);
    const next = apply(first.record, { kind: 'customer-seen', until: 6000, typed: { card_number: 16 } }, NOW);
    expect(next.historic).toBe(false);
    const left = run(next.record, { kind: 'customer-left' });
    expect(left.resource.customer_present).toBe(false);
    expect(left.internals.digital!.presenceUntil).toBeUndefined();
    // Gone already: nothing to change.
    expect(apply(left, { kind: 'customer-left' }, NOW).changed).toBe(false);
  });

  test('when the form is sent, then one attempt at a time: its number must be the next one, and a second submit of it changes nothing', () => {
    const submitted = run(digital(), { kind: 'payment-submitted', attempt: 1 });
    expect(submitted.resource).toMatchObject({ state: 'processing', attempts: { made: 1, allowed: 3 } });
    expect(apply(submitted, { kind: 'payment-submitted', attempt: 1 }, NOW).changed).toBe(false);
    expect(apply(digital(), { kind: 'payment-submitted', attempt: 2 }, NOW).changed).toBe(false);
    expect(() => apply(capturing(), { kind: 'payment-submitted', attempt: 1 }, NOW)).toThrow(NotAnAgentSession);
  });

  test('when an attempt is declined, then the link takes the next one with the fields cleared, until none is left; approved ends it', () => {
    let record = run(digital(2), { kind: 'customer-seen', until: 1000, typed: { card_number: 16 } }, { kind: 'payment-submitted', attempt: 1 });
    record = run(record, { kind: 'payment-finished', attempt: 1, approved: false, result: declined });
    expect(record.resource).toMatchObject({ state: 'capturing', result: declined, attempts: { made: 1, allowed: 2 }, fields: { card_number: { state: 'empty', length: 0 } } });
    expect(record.internals.digital!.nextAttempt).toBe(2);
    // A late finish of attempt 1 says nothing now.
    expect(apply(record, { kind: 'payment-finished', attempt: 1, approved: true, result: approved }, NOW).changed).toBe(false);
    const last = run(record, { kind: 'payment-submitted', attempt: 2 }, { kind: 'payment-finished', attempt: 2, approved: false, result: declined });
    expect(last.resource.state).toBe('failed');
    const paid = run(record, { kind: 'payment-submitted', attempt: 2 }, { kind: 'payment-finished', attempt: 2, approved: true, result: approved });
    expect(paid.resource).toMatchObject({ state: 'succeeded', result: approved });
    expect(apply(paid, { kind: 'customer-seen', until: 9000 }, NOW).changed).toBe(false);
  });

  test('when a processing attempt is settled from the journal, then as if its answer had come', () => {
    const processing = run(digital(), { kind: 'payment-submitted', attempt: 1 });
    expect(run(processing, { kind: 'settled-from-journal', approved: true, result: approved }).resource.state).toBe('succeeded');
    expect(run(processing, { kind: 'settled-from-journal', approved: false, result: declined }).resource).toMatchObject({ state: 'capturing', attempts: { made: 1 } });
  });

  test('when link messages go out and Twilio reports on them, then sms shows the last one only', () => {
    let record = run(digital(), { kind: 'sms-sent', state: 'queued', errorCode: null, messageSid: 'SM1' });
    expect(record.resource.sms).toEqual({ state: 'queued', error_code: null, sends: 1 });
    record = run(record, { kind: 'sms-status', messageSid: 'SM1', state: 'delivered', errorCode: null });
    expect(record.resource.sms).toEqual({ state: 'delivered', error_code: null, sends: 1 });
    record = run(record, { kind: 'sms-sent', state: 'queued', errorCode: null, messageSid: 'SM2' });
    // A late report on the first message is not news of the second.
    expect(apply(record, { kind: 'sms-status', messageSid: 'SM1', state: 'undelivered', errorCode: '30003' }, NOW).changed).toBe(false);
    record = run(record, { kind: 'sms-status', messageSid: 'SM2', state: 'undelivered', errorCode: '30003' });
    expect(record.resource.sms).toEqual({ state: 'undelivered', error_code: '30003', sends: 2 });
  });

  test("when an agent's action is asked of a digital session, then NOT_AN_AGENT_SESSION; it may be cancelled until it processes", () => {
    expect(() => apply(digital(), { kind: 'capture-requested', field: 'card_number' }, NOW)).toThrow(NotAnAgentSession);
    expect(run(digital(), { kind: 'cancelled' }).resource.state).toBe('cancelled');
    expect(() => apply(run(digital(), { kind: 'payment-submitted', attempt: 1 }), { kind: 'cancelled' }, NOW)).toThrow(SessionProcessing);
  });
});

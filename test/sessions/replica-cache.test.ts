import { AgentSessions } from '../../src/sessions/agent-sessions';
import { SessionEvents } from '../../src/sessions/session-events';
import type { CreateSessionBody } from '../../src/sessions/session-schemas';
import { openStore, type Store } from '../../src/store/open-journal';
import { SessionStore } from '../../src/store/session-store';
import { capturingLogger } from '../helpers/api-clients';
import { temporaryDataDir } from '../helpers/service';

/**
 * Each replica starts a change from the session as it last saved it. When another replica has
 * moved the session on since, that copy is stale: it must never refuse an action the session now
 * allows, nor drop a callback as a duplicate of what it no longer is. Two use-case instances over
 * one database stand for two replicas; Twilio's REST side is a stand-in that accepts every call
 * (what it does is not the subject here, and the end-to-end tests drive the real simulator).
 */
let store: Store;
let replicaA: AgentSessions;
let replicaB: AgentSessions;
beforeEach(async () => {
  store = await openStore({ dataDir: temporaryDataDir() });
  const sessions = new SessionStore(store.sql);
  const replica = () =>
    new AgentSessions({
      store: sessions,
      twilio: { create: async () => ({ paymentSid: 'PK00000000000000000000000000000001' }), update: async () => undefined },
      events: new SessionEvents(store.sql, sessions, () => undefined),
      webhooksFor: () => [],
      publicUrl: 'http://127.0.0.1:1',
      defaultConnector: 'Default',
      timeoutSeconds: 300,
      logger: capturingLogger().logger,
    });
  replicaA = replica();
  replicaB = replica();
});
afterEach(async () => {
  await store.close();
});

const body: CreateSessionBody = { type: 'agent', call_sid: 'CA00000000000000000000000000000001', amount: '10.00', currency: 'USD', payment_method: 'card', security_code: false, postal_code: false };
const callback = (form: Record<string, string>) => ({ AccountSid: 'AC1', Sid: 'PK00000000000000000000000000000001', ...form });

test('when the callbacks landed on the other replica, then complete on this one is allowed by the session as it now is', async () => {
  const { id } = await replicaA.create('crm', body);
  await replicaA.capture('client:crm', 'crm', id, 'card_number');
  await replicaB.twilioStatus(id, callback({ Capture: 'payment-card-number', PartialResult: 'false', PaymentCardNumber: 'xxxxxxxxxxxx1111', Required: 'ExpirationDate' }));
  await replicaA.capture('client:crm', 'crm', id, 'expiry');
  await replicaB.twilioStatus(id, callback({ Capture: 'expiration-date', PartialResult: 'false', ExpirationDate: '1230', Required: '' }));
  expect((await replicaA.complete('client:crm', 'crm', id)).state).toBe('processing');
});

test('when a callback repeats what this replica last saw but the other replica has changed since, then it is applied, not dropped', async () => {
  const { id } = await replicaA.create('crm', body);
  await replicaA.capture('client:crm', 'crm', id, 'card_number');
  const captured = callback({ Capture: 'payment-card-number', PartialResult: 'false', PaymentCardNumber: 'xxxxxxxxxxxx1111', Required: 'ExpirationDate' });
  await replicaA.twilioStatus(id, captured);
  // The agent asks again; the other replica records the new entry's error.
  await replicaB.capture('client:crm', 'crm', id, 'card_number');
  await replicaB.twilioStatus(id, callback({ Capture: 'payment-card-number', PartialResult: 'false', ErrorType: 'invalid-card-number' }));
  // The caller's next good entry reaches this replica, and is the same as what it last saw.
  await replicaA.twilioStatus(id, captured);
  expect((await replicaA.get('crm', id)).resource.fields.card_number).toMatchObject({ state: 'captured', display: 'xxxx xxxx xxxx 1111' });
});

import { approvedAnswer, type WireAnswer } from '../../src/contract/connector-answer';
import { TransactionIdReused, TransactionInProgress, Unauthorized } from '../../src/errors';
import { IdempotencyGate, type Arrival, type GateOptions, type PaymentAttempt } from '../../src/store/idempotency';
import { InstanceKeeper, thisInstance } from '../../src/store/instances';
import type { NewClaim, Settlement, TransactionJournal } from '../../src/store/journal';
import { approvedSettlement, claimFor } from '../helpers/journal-data';
import { openSqliteJournal } from '../../src/store/sqlite-journal';
import { temporaryDataDir } from '../helpers/service';

/** The gate on its own, over a real SQLite journal, with payments the test finishes by hand. */
const claim = (transactionId: string, overrides: Partial<NewClaim> = {}) => claimFor(transactionId, { owner: 'me', ...overrides });
const settlement = approvedSettlement;

/** A payment that ends when the test says so, counting how often it was started. */
function controllablePayment() {
  let finish!: (value: Settlement) => void;
  const done = new Promise<Settlement>((resolve) => (finish = resolve));
  const payment = { calls: 0, run: () => ((payment.calls += 1), done), finish };
  return payment;
}

let journal: TransactionJournal;
let gate: IdempotencyGate;
const errors: unknown[] = [];

function makeGate(options: Partial<GateOptions> = {}, over: TransactionJournal = journal) {
  const keeper = new InstanceKeeper(over, { ...thisInstance(), id: 'me' }, (error) => errors.push(error));
  return new IdempotencyGate(
    over,
    keeper,
    { waitLimitMs: 5_000, maxWaitersPerKey: 10, maxWaitersPerAccount: 10, maxWaiters: 10, pollMs: 20, settleRetryMs: 20, ...options },
    (error) => errors.push(error),
  );
}

/** A request's payment as the gate sees it, with the credentials of the claim, and who wants to know how it arrived. */
function attempt(
  claimed: NewClaim,
  perform: () => Promise<Settlement>,
  arrived: (how: Arrival) => void,
  sameCredentials = (storedHash: string | null) => storedHash === claimed.credentialHash,
): PaymentAttempt & { arrived: (how: Arrival) => void } {
  return { claim: claimed, perform, arrived, sameCredentials };
}

/** The gate's answer to one request, telling its `arrived` how it met its key. */
async function payOnce(through: IdempotencyGate, request: ReturnType<typeof attempt>): Promise<WireAnswer> {
  const result = await through.once(request);
  request.arrived(result.arrival);
  return result.answer;
}

beforeEach(() => {
  journal = openSqliteJournal(temporaryDataDir());
  gate = makeGate();
});
afterEach(async () => {
  await journal.close();
});

test('when duplicates arrive while the first payment runs, then they join it and the payment runs once', async () => {
  const payment = controllablePayment();
  const arrivals: string[] = [];
  const answers = [1, 2, 3].map(() => payOnce(gate, attempt(claim('tx-join'), payment.run, (how) => arrivals.push(how))));
  await new Promise((resolve) => setTimeout(resolve, 50));
  payment.finish(settlement('id-1'));
  const bodies = (await Promise.all(answers)).map((answer) => answer.body);
  expect(new Set(bodies)).toEqual(new Set([approvedAnswer('charge', 'id-1').body]));
  expect(payment.calls).toBe(1);
  expect(arrivals.sort()).toEqual(['first', 'joined', 'joined']);
});

test('when more requests wait than allowed, then the extra ones get TRANSACTION_IN_PROGRESS at once', async () => {
  gate = makeGate({ maxWaitersPerKey: 2 });
  const payment = controllablePayment();
  const first = payOnce(gate, attempt(claim('tx-bounded'), payment.run, () => undefined));
  const waiting = [payOnce(gate, attempt(claim('tx-bounded'), payment.run, () => undefined)), payOnce(gate, attempt(claim('tx-bounded'), payment.run, () => undefined))];
  await expect(payOnce(gate, attempt(claim('tx-bounded'), payment.run, () => undefined))).rejects.toThrow(TransactionInProgress);
  payment.finish(settlement('id-2'));
  await Promise.all([first, ...waiting]);
  expect(payment.calls).toBe(1);
});

test('when the first payment outlasts the wait limit, then a duplicate gets TRANSACTION_IN_PROGRESS and the payment still settles', async () => {
  gate = makeGate({ waitLimitMs: 100 });
  const payment = controllablePayment();
  const first = payOnce(gate, attempt(claim('tx-slow'), payment.run, () => undefined));
  await expect(payOnce(gate, attempt(claim('tx-slow'), payment.run, () => undefined))).rejects.toThrow(
    'A payment with this transaction_id is still in progress; retry with the same transaction_id',
  );
  payment.finish(settlement('id-3'));
  await first;
  expect(await journal.get(claim('tx-slow'))).toMatchObject({ status: 'approved', gatewayTransactionId: 'id-3' });
});

test('when another instance holds the claim, then the duplicate polls the journal and returns its answer', async () => {
  await journal.registerInstance({ id: 'other', host: 'elsewhere', pid: 1, startedAt: Date.now(), heartbeatAt: Date.now() });
  await journal.claim({ ...claim('tx-other'), owner: 'other' }, Date.now());
  const payment = controllablePayment();
  const waiting = payOnce(gate, attempt(claim('tx-other'), payment.run, () => undefined));
  setTimeout(() => void journal.settle(claim('tx-other'), settlement('id-4'), Date.now()), 100);
  expect((await waiting).body).toBe(approvedAnswer('charge', 'id-4').body);
  expect(payment.calls).toBe(0);
});

test('when the journal cannot take the claim, then JOURNAL_UNAVAILABLE and the payment never runs', async () => {
  const broken = openSqliteJournal(temporaryDataDir());
  await broken.close();
  const payment = controllablePayment();
  await expect(payOnce(makeGate({}, broken), attempt(claim('tx-broken'), payment.run, () => undefined))).rejects.toThrow(
    'The transaction journal is unavailable; the payment was not sent to the gateway',
  );
  expect(payment.calls).toBe(0);
});

test('when a record was orphaned by a crash, then its replay is OUTCOME_UNKNOWN for the method of the first request', async () => {
  await journal.claim({ ...claim('tx-orphan'), owner: 'ghost' }, 1);
  await journal.orphanPending(['me'], 2, 3);
  const answer = await payOnce(gate, attempt(claim('tx-orphan'), controllablePayment().run, () => undefined));
  const record = await journal.get(claim('tx-orphan'));
  expect(answer.httpStatus).toBe(200);
  expect(JSON.parse(answer.body)).toEqual({ charge_id: null, error_code: 'OUTCOME_UNKNOWN', error_message: record!.errorMessage });
});

test('when the journal refuses the outcome for a while, then duplicates get the first answer from memory and the outcome is written later', async () => {
  let refusals = 3;
  const flaky: TransactionJournal = {
    ...journal,
    claim: (...args) => journal.claim(...args),
    get: (...args) => journal.get(...args),
    settle: (...args) => (refusals-- > 0 ? Promise.reject(new Error('disk full')) : journal.settle(...args)),
  };
  gate = makeGate({}, flaky);
  const payment = controllablePayment();
  payment.finish(settlement('id-late'));
  const first = await payOnce(gate, attempt(claim('tx-flaky'), payment.run, () => undefined));
  expect(await journal.get(claim('tx-flaky'))).toMatchObject({ status: 'pending' });

  const arrivals: string[] = [];
  const duplicate = await payOnce(gate, attempt(claim('tx-flaky'), payment.run, (how) => arrivals.push(how)));
  expect(duplicate.body).toBe(first.body);
  expect(arrivals).toEqual(['joined']);
  expect(payment.calls).toBe(1);

  const deadline = Date.now() + 5_000;
  while ((await journal.get(claim('tx-flaky')))?.status === 'pending' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(await journal.get(claim('tx-flaky'))).toMatchObject({ status: 'approved', gatewayTransactionId: 'id-late' });
  expect(refusals).toBe(-1);
});

/** The journal, with each claim held back `delayMs`: a slow database, where races have room. */
function slowClaims(delayMs: number): TransactionJournal {
  return { ...journal, claim: async (...args) => (await new Promise((resolve) => setTimeout(resolve, delayMs)), journal.claim(...args)) };
}

describe('adversarial review (SECURITY.md)', () => {
  test('finding 4: when a mismatched request is claiming while a genuine retry arrives, then the retry is compared with the first request and gets its answer', async () => {
    const payment = controllablePayment();
    payment.finish(settlement('id-genuine'));
    await payOnce(gate, attempt(claim('tx-spoiled'), payment.run, () => undefined));

    gate = makeGate({}, slowClaims(50));
    const mismatched = payOnce(gate, attempt(claim('tx-spoiled', { fingerprint: 'e'.repeat(64) }), payment.run, () => undefined));
    const retry = payOnce(gate, attempt(claim('tx-spoiled'), payment.run, () => undefined));
    await expect(mismatched).rejects.toThrow(TransactionIdReused);
    expect((await retry).body).toBe(approvedAnswer('charge', 'id-genuine').body);
    expect(payment.calls).toBe(1);
  });

  test('finding 4: when a mismatched request arrives first while the genuine payment runs, then only it is refused and the genuine duplicates join', async () => {
    const payment = controllablePayment();
    const first = payOnce(gate, attempt(claim('tx-running'), payment.run, () => undefined));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(payOnce(gate, attempt(claim('tx-running', { fingerprint: 'e'.repeat(64) }), payment.run, () => undefined))).rejects.toThrow(TransactionIdReused);
    const duplicate = payOnce(gate, attempt(claim('tx-running'), payment.run, () => undefined));
    payment.finish(settlement('id-running'));
    expect((await duplicate).body).toBe((await first).body);
  });

  test('finding 3: when a duplicate brings other credentials, then 401 before any comparison of the payment, running or recorded', async () => {
    const payment = controllablePayment();
    const first = payOnce(gate, attempt(claim('tx-creds'), payment.run, () => undefined));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stranger = claim('tx-creds', { credentialHash: 'd'.repeat(32), fingerprint: 'e'.repeat(64) });
    await expect(payOnce(gate, attempt(stranger, payment.run, () => undefined))).rejects.toThrow(Unauthorized);
    payment.finish(settlement('id-creds'));
    await first;
    await expect(payOnce(gate, attempt(stranger, payment.run, () => undefined))).rejects.toThrow('The gateway refused the credentials');
  });

  test('finding 6: when one account fills its waiting room, then another account still joins its own payment', async () => {
    gate = makeGate({ maxWaitersPerKey: 10, maxWaitersPerAccount: 2, maxWaiters: 10 });
    const crowded = controllablePayment();
    const other = controllablePayment();
    const firstOfA = payOnce(gate, attempt(claim('tx-a', { account: 'A' }), crowded.run, () => undefined));
    const firstOfB = payOnce(gate, attempt(claim('tx-b', { account: 'B' }), other.run, () => undefined));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const waitingOfA = [1, 2].map(() => payOnce(gate, attempt(claim('tx-a', { account: 'A' }), crowded.run, () => undefined)));
    await expect(payOnce(gate, attempt(claim('tx-a', { account: 'A' }), crowded.run, () => undefined))).rejects.toThrow(TransactionInProgress);
    const retryOfB = payOnce(gate, attempt(claim('tx-b', { account: 'B' }), other.run, () => undefined));
    other.finish(settlement('id-b'));
    crowded.finish(settlement('id-a'));
    expect((await retryOfB).body).toBe((await firstOfB).body);
    await Promise.all([firstOfA, ...waitingOfA]);
  });

  test("finding 6: when many duplicates wait for another replica's payment, then they share one poll of the journal", async () => {
    await journal.registerInstance({ id: 'other', host: 'elsewhere', pid: 1, startedAt: Date.now(), heartbeatAt: Date.now() });
    await journal.claim({ ...claim('tx-shared'), owner: 'other' }, Date.now());
    let reads = 0;
    gate = makeGate({ maxWaitersPerKey: 50, maxWaitersPerAccount: 50, maxWaiters: 50 }, { ...journal, get: (...args) => ((reads += 1), journal.get(...args)) });
    const waiting = Array.from({ length: 30 }, () => payOnce(gate, attempt(claim('tx-shared'), controllablePayment().run, () => undefined)));
    await new Promise((resolve) => setTimeout(resolve, 200)); // about 10 rounds of 20 ms
    await journal.settle(claim('tx-shared'), settlement('id-shared'), Date.now());
    const bodies = new Set((await Promise.all(waiting)).map((answer) => answer.body));
    expect(bodies).toEqual(new Set([approvedAnswer('charge', 'id-shared').body]));
    // One poll reads once a round (20 ms); thirty separate ones would have read thirty times as often.
    expect(reads).toBeLessThan(30);
  });
});

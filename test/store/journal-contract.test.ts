import { openPostgresJournal } from '../../src/store/postgres-journal';
import { openSqliteJournal } from '../../src/store/sqlite-journal';
import type { TransactionJournal } from '../../src/store/journal';
import { approvedSettlement, claimFor } from '../helpers/journal-data';
import { describeWithPostgres, freshPostgresUrl } from '../helpers/postgres';
import { temporaryDataDir } from '../helpers/service';

/**
 * One suite, both journals: whatever the service relies on from a journal is
 * checked here against SQLite and PostgreSQL alike.
 */
const approved = approvedSettlement('000000000042');
const answer = approved.answer;

function journalContract(open: () => Promise<{ journal: TransactionJournal; second: () => Promise<TransactionJournal> }>) {
  let journal: TransactionJournal;
  let second: () => Promise<TransactionJournal>;
  const opened: TransactionJournal[] = [];

  beforeEach(async () => {
    const fresh = await open();
    journal = fresh.journal;
    second = async () => {
      const other = await fresh.second();
      opened.push(other);
      return other;
    };
    opened.push(journal);
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((each) => each.close()));
  });

  test('when a key is claimed, then a pending record holds the claim and no answer', async () => {
    expect(await journal.claim(claimFor('tx-1'), 1000)).toEqual({ claimed: true });
    expect(await journal.get(claimFor('tx-1'))).toEqual({
      ...claimFor('tx-1'),
      status: 'pending',
      gatewayTransactionId: null,
      errorCode: null,
      errorMessage: null,
      gatewayMs: null,
      answer: null,
      createdAt: 1000,
      updatedAt: 1000,
    });
  });

  test('when a key is claimed twice, then the second claim gets the existing record', async () => {
    await journal.claim(claimFor('tx-2'), 1000);
    const again = await journal.claim(claimFor('tx-2', { owner: 'instance-b' }), 2000);
    expect(again).toMatchObject({ claimed: false, existing: { owner: 'instance-a', status: 'pending', createdAt: 1000 } });
  });

  test('when the same transaction_id comes for another account or connector, then it is another key', async () => {
    await journal.claim(claimFor('tx-3'), 1000);
    expect(await journal.claim(claimFor('tx-3', { account: '999999999999' }), 1000)).toEqual({ claimed: true });
    expect(await journal.claim(claimFor('tx-3', { connector: 'other' }), 1000)).toEqual({ claimed: true });
  });

  test('when 40 claims race for one key from two connections, then exactly one wins', async () => {
    const other = await second();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, index) => (index % 2 === 0 ? journal : other).claim(claimFor('tx-race', { owner: `o-${index}` }), 1000)),
    );
    expect(results.filter((result) => result.claimed)).toHaveLength(1);
  });

  test('when a claim is settled, then status, ids, code and the exact answer are kept', async () => {
    await journal.claim(claimFor('tx-4'), 1000);
    await journal.settle(claimFor('tx-4'), approved, 1500);
    expect(await journal.get(claimFor('tx-4'))).toMatchObject({
      status: 'approved',
      gatewayTransactionId: '000000000042',
      gatewayMs: 87,
      answer,
      createdAt: 1000,
      updatedAt: 1500,
    });
  });

  test('when a settled record is settled again, then the first settlement stays', async () => {
    await journal.claim(claimFor('tx-5'), 1000);
    await journal.settle(claimFor('tx-5'), approved, 1500);
    await journal.settle(claimFor('tx-5'), { ...approved, status: 'error', answer: { httpStatus: 200, body: '{}' } }, 1600);
    expect(await journal.get(claimFor('tx-5'))).toMatchObject({ status: 'approved', answer });
  });

  test('when records are searched, then filters, newest-first order and limit apply', async () => {
    await journal.claim(claimFor('old'), 1000);
    await journal.claim(claimFor('mid'), 2000);
    await journal.claim(claimFor('new', { connector: 'other' }), 3000);
    await journal.settle(claimFor('mid'), approved, 2100);
    const ids = async (query: Parameters<TransactionJournal['find']>[0]) => (await journal.find(query)).map((r) => r.transactionId);
    expect(await ids({})).toEqual(['new', 'mid', 'old']);
    expect(await ids({ status: 'pending' })).toEqual(['new', 'old']);
    expect(await ids({ since: 2000 })).toEqual(['new', 'mid']);
    expect(await ids({ until: 2000 })).toEqual(['old']);
    expect(await ids({ connector: 'other' })).toEqual(['new']);
    expect(await ids({ transactionId: 'mid' })).toEqual(['mid']);
    expect(await ids({ limit: 1 })).toEqual(['new']);
  });

  test('when pending records are orphaned, then only those of owners not live and old enough become unknown', async () => {
    await journal.claim(claimFor('mine', { owner: 'live' }), 1000);
    await journal.claim(claimFor('dead-old', { owner: 'dead' }), 1000);
    await journal.claim(claimFor('dead-young', { owner: 'dead' }), 5000);
    await journal.claim(claimFor('dead-settled', { owner: 'dead' }), 1000);
    await journal.settle(claimFor('dead-settled', { owner: 'dead' }), approved, 1100);
    expect(await journal.orphanPending(['live'], 4000, 6000)).toEqual([{ connector: 'payconex', account: '123456789012', transactionId: 'dead-old', owner: 'dead' }]);
    const statuses = Object.fromEntries((await journal.find({})).map((r) => [r.transactionId, r.status]));
    expect(statuses).toEqual({ mine: 'pending', 'dead-old': 'unknown', 'dead-young': 'pending', 'dead-settled': 'approved' });
    expect(await journal.get(claimFor('dead-old'))).toMatchObject({ errorCode: 'OUTCOME_UNKNOWN', answer: null, updatedAt: 6000 });
  });

  test('when old records are pruned, then settled ones go and pending ones stay', async () => {
    await journal.claim(claimFor('old-settled'), 1000);
    await journal.settle(claimFor('old-settled'), approved, 1000);
    await journal.claim(claimFor('old-pending'), 1000);
    await journal.claim(claimFor('recent'), 9000);
    await journal.settle(claimFor('recent'), approved, 9000);
    expect(await journal.prune(5000)).toBe(1);
    expect((await journal.find({})).map((r) => r.transactionId).sort()).toEqual(['old-pending', 'recent']);
  });

  test('when instances register and beat, then they are listed and can be removed', async () => {
    await journal.registerInstance({ id: 'a', host: 'h1', pid: 10, startedAt: 1, heartbeatAt: 1 });
    await journal.registerInstance({ id: 'b', host: 'h2', pid: 20, startedAt: 2, heartbeatAt: 2 });
    await journal.heartbeat('a', 99);
    expect((await journal.instances()).sort((x, y) => x.id.localeCompare(y.id))).toEqual([
      { id: 'a', host: 'h1', pid: 10, startedAt: 1, heartbeatAt: 99 },
      { id: 'b', host: 'h2', pid: 20, startedAt: 2, heartbeatAt: 2 },
    ]);
    await journal.removeInstances(['a']);
    expect((await journal.instances()).map((i) => i.id)).toEqual(['b']);
  });

  test('when the journal is opened again, then migrations are not re-applied and records remain', async () => {
    await journal.claim(claimFor('kept'), 1000);
    const reopened = await second();
    expect(await reopened.get(claimFor('kept'))).toMatchObject({ status: 'pending' });
  });
}

describe('SQLite journal', () => {
  journalContract(async () => {
    const dir = temporaryDataDir();
    return { journal: openSqliteJournal(dir), second: async () => openSqliteJournal(dir) };
  });
});

describeWithPostgres('PostgreSQL journal', () => {
  journalContract(async () => {
    const url = await freshPostgresUrl();
    return { journal: await openPostgresJournal(url), second: () => openPostgresJournal(url) };
  });
});

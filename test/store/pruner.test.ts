import { approvedAnswer } from '../../src/connector/answer';
import type { NewClaim } from '../../src/store/journal';
import { JournalPruner } from '../../src/store/pruner';
import { openSqliteJournal } from '../../src/store/sqlite-journal';
import { temporaryDataDir } from '../helpers/service';

const DAY = 24 * 60 * 60 * 1000;

test('when records are older than RETENTION_DAYS, then the pruner deletes the settled ones only', async () => {
  const journal = openSqliteJournal(temporaryDataDir());
  const now = Date.now();
  const claim = (transactionId: string): NewClaim => ({
    connector: 'payconex',
    account: '123456789012',
    transactionId,
    method: 'charge',
    tender: 'card',
    amount: '1.00',
    currency: 'USD',
    cardBrand: 'visa',
    last4: '1111',
    fingerprint: 'c'.repeat(64),
    owner: 'me',
  });
  const settled = { status: 'approved' as const, gatewayTransactionId: '1', errorCode: null, errorMessage: null, gatewayMs: 1, answer: approvedAnswer('charge', '1') };
  for (const [id, age] of [['31-days', 31], ['29-days', 29]] as const) {
    await journal.claim(claim(id), now - age * DAY);
    await journal.settle(claim(id), settled, now - age * DAY);
  }
  await journal.claim(claim('31-days-pending'), now - 31 * DAY);

  const pruner = new JournalPruner(journal, 30, () => undefined);
  await pruner.start();
  pruner.stop();
  expect((await journal.find({})).map((record) => record.transactionId).sort()).toEqual(['29-days', '31-days-pending']);
  await journal.close();
});

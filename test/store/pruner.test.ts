import { approvedSettlement, claimFor } from '../helpers/journal-data';
import { JournalPruner } from '../../src/store/pruner';
import { openSqliteJournal } from '../../src/store/sqlite-journal';
import { temporaryDataDir } from '../helpers/service';

const DAY = 24 * 60 * 60 * 1000;

test('when records are older than RETENTION_DAYS, then the pruner deletes the settled ones only', async () => {
  const journal = openSqliteJournal(temporaryDataDir());
  const now = Date.now();
  const claim = (transactionId: string) => claimFor(transactionId);
  const settled = approvedSettlement('1');
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

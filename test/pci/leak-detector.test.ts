import { base64Alignments, expectNoSecrets } from '../helpers/leaks';
import { ACCESS_KEY, BANK_ACCOUNT, ROUTING, VISA } from '../helpers/test-data';

/** The leak checks are only as good as this detector: it must see a secret in any encoding and position. */
describe('the leak detector', () => {
  test.each(['', 'a', 'ab', '{"cardnumber":"', 'Authorization: Basic '])(
    'when a secret is base64-encoded after the prefix %j, then it is found',
    (prefix) => {
      for (const value of [VISA, BANK_ACCOUNT, ROUTING, ACCESS_KEY]) {
        expect(() => expectNoSecrets(Buffer.from(`${prefix}${value}"}`).toString('base64'))).toThrow();
      }
    },
  );

  test('when a secret is in clear or URL-encoded, then it is found', () => {
    expect(() => expectNoSecrets(`card=${VISA}`)).toThrow();
    expect(() => expectNoSecrets(encodeURIComponent(`{"k":"${ACCESS_KEY}"}`))).toThrow();
  });

  test('when the text holds only masks, then nothing is found', () => {
    expect(() => expectNoSecrets(`card ****${VISA.slice(-4)} bank ****${BANK_ACCOUNT.slice(-4)}`)).not.toThrow();
  });

  test('when the forms are built, then each is long enough not to match by chance', () => {
    for (const value of [VISA, BANK_ACCOUNT, ROUTING, ACCESS_KEY]) {
      for (const form of base64Alignments(value)) expect(form.length).toBeGreaterThanOrEqual(8);
    }
  });
});

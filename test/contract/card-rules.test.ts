import { canonicalAmount, isBelowMaximum, toMinorUnits } from '../../src/contract/amount';
import { cardBrand, passesAbaChecksum, passesLuhn } from '../../src/contract/card-brand';

describe('card brand from the Twilio TEST-mode numbers', () => {
  test.each([
    ['4111111111111111', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['2221000000000009', 'mastercard'],
    ['378282246310005', 'amex'],
    ['6011111111111117', 'discover'],
    ['3065930009020004', 'diners'],
    ['3566002020360505', 'jcb'],
    ['6200000000000005', 'unionpay'],
    ['6771798021000008', 'maestro'],
    ['9999999999999995', 'unknown'],
  ])('when the number is %s, then the brand is %s', (number, brand) => {
    expect(cardBrand(number)).toBe(brand);
  });
});

describe('check digits', () => {
  test.each(['4111111111111111', '378282246310005', '6011111111111117', '3056930009020004', '6771798021000008'])(
    'when %s is checked, then it passes Luhn',
    (number) => expect(passesLuhn(number)).toBe(true),
  );
  // 3065930009020004 is the Diners number the spec lists as Twilio's; it fails Luhn (see README).
  test.each(['4111111111111112', '1234567812345678', '', '41111a1111111111', '3065930009020004'])('when %p is checked, then it fails Luhn', (number) =>
    expect(passesLuhn(number)).toBe(false),
  );
  test('when routing numbers are checked, then the ABA 3-7-1 checksum decides', () => {
    expect(passesAbaChecksum('244183602')).toBe(true);
    expect(passesAbaChecksum('021000021')).toBe(true);
    expect(passesAbaChecksum('123456789')).toBe(false);
    expect(passesAbaChecksum('24418360')).toBe(false);
  });
});

describe('amounts as decimal strings', () => {
  test.each([
    ['10.0', '10.00'],
    ['10', '10.00'],
    ['0010.50', '10.50'],
    ['0.5', '0.50'],
    ['7.100', '7.10'],
    ['1.005', undefined],
  ])('when %s is canonicalised, then it is %s', (given, canonical) => {
    expect(canonicalAmount(given)).toBe(canonical);
  });
  test('when amounts are converted to minor units, then no float rounding happens', () => {
    expect(toMinorUnits('0.29')).toBe('29');
    expect(toMinorUnits('1.15')).toBe('115');
    expect(toMinorUnits('999999.99')).toBe('99999999');
  });
  test('when an amount reaches one million, then it is above the maximum', () => {
    expect(isBelowMaximum('999999.99')).toBe(true);
    expect(isBelowMaximum('1000000.00')).toBe(false);
  });
});

import { cardBrand } from '../../src/contract/card-brand';
import { cardTypeOf, checkCardNumber, checkExpiry, checkPostalCode, checkSecurityCode } from '../../src/simulator/card-rules';
import { maskCard } from '../../src/simulator/payment-fields';

describe('the card rules Twilio applies while the caller types', () => {
  test.each([
    ['4111111111111111', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['2223000010309703', 'mastercard'],
    ['378282246310005', 'amex'],
    ['6011111111111117', 'discover'],
    ['3566002020360505', 'jcb'],
    ['36000000000008', 'diners-club'],
    ['6771798021000008', 'maestro'],
  ])('when %s is typed, then its type is %s', (number, type) => expect(cardTypeOf(number)).toBe(type));

  // Deliberately two tables (see the comments in both files): Twilio's validCardTypes rules decide
  // what a session accepts; the bridge's brand names the network in its logs and journal.
  test.each([
    ['6200000000000005', 'maestro', 'unionpay'],
    ['201400000000009', 'enroute', 'unknown'],
    ['3400000000000009', undefined, 'amex'],
    ['6400000000000000', 'discover', 'maestro'],
  ])('when %s is typed, then Twilio’s type is %p and the bridge’s journal brand is %p', (number, type, brand) => {
    expect(cardTypeOf(number)).toBe(type);
    expect(cardBrand(number)).toBe(brand);
  });

  test('when the number fails Luhn or its type is not accepted, then the right ErrorType', () => {
    expect(checkCardNumber('4111111111111112', ['visa'])).toBe('invalid-card-number');
    expect(checkCardNumber('6011111111111117', ['visa', 'mastercard', 'amex'])).toBe('invalid-card-type');
    expect(checkCardNumber('6011111111111117', ['discover'])).toBeUndefined();
  });

  test('when the expiry, CVV or postal code is checked, then past dates, wrong lengths and short codes are refused', () => {
    const now = new Date('2026-11-25T00:00:00Z');
    expect(checkExpiry('1126', now)).toBeUndefined();
    expect(checkExpiry('1026', now)).toBe('invalid-date');
    expect(checkExpiry('1326', now)).toBe('invalid-date');
    expect(checkSecurityCode('1234', '378282246310005')).toBeUndefined();
    expect(checkSecurityCode('123', '378282246310005')).toBe('invalid-security-code');
    expect(checkSecurityCode('123', '4111111111111111')).toBeUndefined();
    expect(checkPostalCode('941', 5)).toBe('invalid-postal-code');
    expect(checkPostalCode('94111', 5)).toBeUndefined();
  });

  test('when a card number is masked, then only the last 4 digits show, in groups of 4', () => {
    expect(maskCard('4242424242424242')).toBe('xxxx xxxx xxxx 4242');
    expect(maskCard('378282246310005')).toBe('xxxx xxxx xxx 0005');
  });
});

/**
 * A connector in Twilio's TEST mode lets only Twilio's published test numbers through
 * (twilio-generic-pay-connector.md §2.4); any other is refused before the connector is called.
 */
export const TEST_CARDS: readonly string[] = [
  '4111111111111111',
  '5555555555554444',
  '378282246310005',
  '6011111111111117',
  '3065930009020004',
  '3566002020360505',
  '6200000000000005',
  '6771798021000008',
];

/** Any valid routing number goes, with one of these accounts. */
export const TEST_BANK_ACCOUNTS: readonly string[] = ['12345678', '123456789'];

export const NOT_A_TEST_CARD = { code: '64022', message: 'Only test card numbers can be used while the payment connector is in TEST mode' };
export const NOT_A_TEST_BANK_ACCOUNT = { code: '64023', message: 'Only test bank account numbers can be used while the payment connector is in TEST mode' };

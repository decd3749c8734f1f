/** Values used across the tests. The PCI test searches every output for these. */
export const ACCOUNT_ID = '123456789012';
export const ACCESS_KEY = '0123456789abcdefABCDEF9876543210';
export const VISA = '4111111111111111';
export const CVV = '9731';
export const BANK_ACCOUNT = '1234567890123';
export const ROUTING = '244183602';
/** The key of the keyed credential hash every test service shares: a secret like the others. */
export const CREDENTIAL_HASH_KEY = 'test-credential-hash-key-0123456789abcdef';

export const basicAuth = (username = ACCOUNT_ID, password = ACCESS_KEY) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

let sequence = 0;
/** Digits spelled as letters: a transaction id made of the pid and the clock must never contain a
 * test value such as the CVV or an expiry (a CI run once had "0831" inside a timestamp). */
const lettersOnly = (value: number) => value.toString(26).replace(/[0-9a-p]/g, (digit) => 'abcdefghijklmnopqrstuvwxyz'.charAt(parseInt(digit, 26)));
export const newTransactionId = () => `test-${lettersOnly(process.pid)}-${lettersOnly(Date.now())}-${lettersOnly(++sequence)}`;

export function cardCharge(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    method: 'charge',
    transaction_id: newTransactionId(),
    cardnumber: VISA,
    cvv: CVV,
    expiry_month: '08',
    expiry_year: '2030',
    amount: '10.00',
    currency_code: 'USD',
    postal_code: '94111',
    description: 'pizza',
    ...overrides,
  };
}

export function cardTokenize(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { amount: _amount, currency_code: _currency, ...card } = cardCharge({ method: 'tokenize' });
  return { ...card, ...overrides };
}

export function achCharge(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    method: 'charge',
    transaction_id: newTransactionId(),
    bankaccountnumber: BANK_ACCOUNT,
    routingnumber: ROUTING,
    amount: '25.50',
    currency_code: 'USD',
    description: 'invoice 42',
    ...overrides,
  };
}

import { format, inspect } from 'node:util';
import { scrubSecrets, secret } from '../../src/redaction/secret';

describe('Secret', () => {
  const card = secret.cardNumber('4111111111111111');

  test('when a secret is turned into text in any way, then only the mask appears', () => {
    const renderings = [
      String(card),
      `${card}`,
      JSON.stringify({ card }),
      inspect({ nested: { card } }, { depth: 10 }),
      format('%s %o %O %j', card, card, card, { card }),
      [card].join(','),
    ];
    for (const text of renderings) {
      expect(text).not.toContain('4111111111111111');
      expect(text).toContain('****1111');
    }
  });

  test('when reveal() is called, then the clear value comes back', () => {
    expect(card.reveal()).toBe('4111111111111111');
  });

  test('when a bank account is short, then fewer digits are shown', () => {
    expect(String(secret.bankAccount('12345678'))).toBe('****78');
    expect(String(secret.bankAccount('1234567890123'))).toBe('****0123');
    expect(String(secret.hidden('123'))).toBe('[redacted]');
  });

  test('when gateway text quotes a secret of the request, then it is replaced by the mask', () => {
    expect(scrubSecrets('bad card 4111111111111111 (4111111111111111)', [card])).toBe('bad card ****1111 (****1111)');
  });
});

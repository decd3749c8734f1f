import { randomUUID } from 'node:crypto';
import { cardTypeOf, type CaptureField } from './card-rules';

/** A captured value in clear, or undefined: read only to mask it or to send it to the connector. */
export type Captured = (field: CaptureField) => string | undefined;

/** `xxxx xxxx xxxx 4242`: only the last 4 digits shown, in groups of 4. */
export function maskCard(digits: string): string {
  const hidden = 'x'.repeat(Math.max(0, digits.length - 4)).replace(/(.{4})(?=.)/g, '$1 ');
  return `${hidden} ${digits.slice(-4)}`.trim();
}

/**
 * The captured fields as Twilio's callbacks show them: card number and CVV masked,
 * bank account to its last 2 digits, and (unlike Twilio) the routing number to its last 4.
 */
export function maskedFields(captured: Captured): Record<string, string> {
  const fields: Record<string, string> = {};
  const card = captured('payment-card-number');
  if (card) Object.assign(fields, { PaymentCardNumber: maskCard(card), PaymentCardType: cardTypeOf(card) ?? '' });
  const expiry = captured('expiration-date');
  if (expiry) fields.ExpirationDate = expiry;
  const code = captured('security-code');
  if (code) fields.SecurityCode = 'x'.repeat(code.length);
  const postal = captured('postal-code');
  if (postal) fields.PaymentCardPostalCode = postal;
  const account = captured('bank-account-number');
  if (account) fields.BankAccountNumber = `${'*'.repeat(Math.max(0, account.length - 2))}${account.slice(-2)}`;
  const routing = captured('bank-routing-number');
  if (routing) fields.BankRoutingNumber = `*****${routing.slice(-4)}`;
  return fields;
}

export interface PaymentTerms {
  paymentMethod: 'credit-card' | 'ach-debit';
  chargeAmount?: string;
  currency: string;
  description?: string;
  parameters: Record<string, string>;
}

export function isCharge(terms: PaymentTerms): boolean {
  return terms.chargeAmount !== undefined && Number(terms.chargeAmount) > 0;
}

/** The Generic Pay Connector request, as Twilio builds it, from what was captured. */
export function connectorRequest(terms: PaymentTerms, captured: Captured): Record<string, unknown> {
  const expiry = captured('expiration-date');
  const body: Record<string, unknown> = { method: isCharge(terms) ? 'charge' : 'tokenize', transaction_id: randomUUID() };
  if (terms.paymentMethod === 'ach-debit') {
    Object.assign(body, { bankaccountnumber: captured('bank-account-number'), routingnumber: captured('bank-routing-number') });
  } else {
    Object.assign(body, {
      cardnumber: captured('payment-card-number'),
      cvv: captured('security-code') ?? null,
      expiry_month: expiry?.slice(0, 2),
      expiry_year: expiry?.slice(2),
      postal_code: captured('postal-code') ?? null,
    });
  }
  if (isCharge(terms)) Object.assign(body, { amount: terms.chargeAmount, currency_code: terms.currency.toUpperCase() });
  return Object.assign(body, { description: terms.description ?? null, parameters: terms.parameters });
}

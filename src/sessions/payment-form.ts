import { cardBrand, expiryHasPassed, passesAbaChecksum, passesLuhn } from '../contract/card-brand';
import type { SessionResource } from './session';

/** What the payment page's form sends (all strings, as a browser sends them); unknown fields are ignored. */
export type PaymentFormFields = Partial<Record<PaymentFormField | 'attempt', string>>;

export const PAYMENT_FORM_FIELDS = ['card_number', 'expiry', 'security_code', 'postal_code', 'routing_number', 'account_number', 'account_type'] as const;
export type PaymentFormField = (typeof PAYMENT_FORM_FIELDS)[number];

/** A field's problem, by a code the page turns into words: never the value. */
export type FieldProblem = 'missing' | 'invalid' | 'expired' | 'length' | 'brand';

/** The form's values as the connector request needs them, or the problems, field by field. */
export type ReadForm =
  | { ok: true; values: ConnectorFields }
  | { ok: false; problems: Partial<Record<PaymentFormField, FieldProblem>> };

export interface ConnectorFields {
  cardnumber?: string;
  expiry_month?: string;
  expiry_year?: string;
  cvv?: string;
  postal_code?: string;
  routingnumber?: string;
  bankaccountnumber?: string;
  account_type?: 'checking' | 'savings';
}

/** Our card brands as Twilio's validCardTypes name them (a session's `valid_card_types`). */
const TWILIO_CARD_TYPE: Partial<Record<ReturnType<typeof cardBrand>, string>> = {
  visa: 'visa',
  mastercard: 'mastercard',
  amex: 'amex',
  discover: 'discover',
  diners: 'diners-club',
  jcb: 'jcb',
  maestro: 'maestro',
};

/**
 * Checks the payment form on the server, as the page's script did in the browser (the script may
 * not have run): a card number that passes Luhn, an expiry (MM/YY) not yet passed, a security code
 * of the brand's length (4 for American Express, 3 otherwise), a postal code; or a routing number
 * with a valid ABA checksum, an account number of 4 to 17 digits, and an account type. A card of a
 * brand the session's `valid_card_types` leaves out is refused here, before the gateway.
 */
export function readPaymentForm(form: PaymentFormFields, session: SessionResource, now: Date, validCardTypes?: readonly string[]): ReadForm {
  const problems: Partial<Record<PaymentFormField, FieldProblem>> = {};
  const digits = (field: PaymentFormField) => (form[field] ?? '').replace(/[\s-]/g, '');
  const values: ConnectorFields = {};

  if (session.payment_method === 'ach') {
    const routing = digits('routing_number');
    if (!routing) problems.routing_number = 'missing';
    else if (!passesAbaChecksum(routing)) problems.routing_number = 'invalid';
    else values.routingnumber = routing;
    const account = digits('account_number');
    if (!account) problems.account_number = 'missing';
    else if (!/^\d{4,17}$/.test(account)) problems.account_number = 'invalid';
    else values.bankaccountnumber = account;
    const type = form.account_type;
    if (type === 'checking' || type === 'savings') values.account_type = type;
    else problems.account_type = 'missing';
  } else {
    const number = digits('card_number');
    if (!number) problems.card_number = 'missing';
    else if (!/^\d{12,19}$/.test(number) || !passesLuhn(number)) problems.card_number = 'invalid';
    else if (validCardTypes && !validCardTypes.includes(TWILIO_CARD_TYPE[cardBrand(number)] ?? '')) problems.card_number = 'brand';
    else values.cardnumber = number;

    const expiry = /^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/.exec(form.expiry ?? '');
    const month = expiry ? Number(expiry[1]) : 0;
    if (!(form.expiry ?? '').trim()) problems.expiry = 'missing';
    else if (!expiry || month < 1 || month > 12) problems.expiry = 'invalid';
    else {
      const year = expiry[2]!.slice(-2);
      if (expiryHasPassed(`${String(month).padStart(2, '0')}${year}`, now)) problems.expiry = 'expired';
      else Object.assign(values, { expiry_month: String(month).padStart(2, '0'), expiry_year: `20${year}` });
    }

    if ('security_code' in session.fields) {
      const code = digits('security_code');
      const length = values.cardnumber && cardBrand(values.cardnumber) === 'amex' ? 4 : 3;
      if (!code) problems.security_code = 'missing';
      else if (!/^\d+$/.test(code)) problems.security_code = 'invalid';
      else if (code.length !== length) problems.security_code = 'length';
      else values.cvv = code;
    }
    if ('postal_code' in session.fields) {
      const postal = (form.postal_code ?? '').trim();
      if (!postal) problems.postal_code = 'missing';
      else if (!/^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$/.test(postal)) problems.postal_code = 'invalid';
      else values.postal_code = postal;
    }
  }
  return Object.keys(problems).length > 0 ? { ok: false, problems } : { ok: true, values };
}

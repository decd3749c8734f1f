import type { FieldKey } from './session';

/**
 * Twilio's names for a session's fields: the `Capture` value that asks for it, the `Required` entry
 * that lists it, and the status-callback parameter that shows it (masked).
 */
export const TWILIO_FIELDS: Record<FieldKey, { capture: string; required: string; shown: string }> = {
  card_number: { capture: 'payment-card-number', required: 'PaymentCardNumber', shown: 'PaymentCardNumber' },
  expiry: { capture: 'expiration-date', required: 'ExpirationDate', shown: 'ExpirationDate' },
  security_code: { capture: 'security-code', required: 'SecurityCode', shown: 'SecurityCode' },
  postal_code: { capture: 'postal-code', required: 'PostalCode', shown: 'PaymentCardPostalCode' },
  routing_number: { capture: 'bank-routing-number', required: 'BankRoutingNumber', shown: 'BankRoutingNumber' },
  account_number: { capture: 'bank-account-number', required: 'BankAccountNumber', shown: 'BankAccountNumber' },
};

const FIELD_OF_CAPTURE = new Map(Object.entries(TWILIO_FIELDS).map(([key, names]) => [names.capture, key as FieldKey]));
const FIELD_OF_REQUIRED = new Map(Object.entries(TWILIO_FIELDS).flatMap(([key, names]) => [[names.required, key as FieldKey], [names.capture, key as FieldKey]]));

/** One status callback, read: what it says about the fields, what is still required, and how it ended. */
export interface TwilioStatus {
  accountSid?: string;
  paymentSid?: string;
  /** The field the callback is about (a `*-matcher` capture is about its field). */
  capture?: FieldKey;
  /** Digits are still arriving. */
  partial: boolean;
  /** `<Pay>` says every field is in and the connector is being called (`For=payment-processing`). */
  processing: boolean;
  errorType?: string;
  /** Each field's value as the callback shows it, already masked by this service's own rules. */
  shown: Partial<Record<FieldKey, string>>;
  /** How many characters each shown value has (while typing, one `x` per digit). */
  typed: Partial<Record<FieldKey, number>>;
  /** Present when the callback lists what is still required. */
  required?: FieldKey[];
  result?: string;
  confirmationCode?: string;
  token?: string;
  payErrorCode?: string;
  paymentError?: string;
  connectorError?: string;
  /** `PayConnector_<key>` of a `<Pay>` action request: the connector answer's `parameters`. */
  connectorParameters?: Record<string, string>;
}

/**
 * Reads a status callback's form fields. Tolerant of what Twilio may send (kebab-case or PascalCase
 * names in `Required`, matcher entries), strict on what leaves: every shown value is masked again
 * here (the routing number, which Twilio sends in clear, to its last 4), so no digit Twilio did
 * not mask, and none it did, goes further.
 */
export function readTwilioStatus(form: Record<string, unknown>): TwilioStatus {
  const text = (name: string) => (typeof form[name] === 'string' && form[name] !== '' ? (form[name] as string) : undefined);
  // The Payments API names the field being captured `Capture`; `<Pay>`'s callbacks name it `For`.
  const capture = text('Capture') ?? text('For');
  const shown: Partial<Record<FieldKey, string>> = {};
  const typed: Partial<Record<FieldKey, number>> = {};
  for (const [field, names] of Object.entries(TWILIO_FIELDS) as Array<[FieldKey, (typeof TWILIO_FIELDS)[FieldKey]]>) {
    const value = text(names.shown);
    if (value === undefined) continue;
    shown[field] = mask(field, value);
    typed[field] = typedLength(value);
  }
  const requiredText = typeof form.Required === 'string' ? form.Required : undefined;
  return {
    accountSid: text('AccountSid'),
    paymentSid: text('Sid'),
    capture: capture === undefined ? undefined : FIELD_OF_CAPTURE.get(capture.replace(/-matcher$/, '')),
    partial: text('PartialResult') === 'true',
    processing: capture === 'payment-processing',
    errorType: text('ErrorType'),
    shown,
    typed,
    required: requiredText === undefined ? undefined : requiredFields(requiredText),
    result: text('Result'),
    confirmationCode: text('PaymentConfirmationCode'),
    token: text('PaymentToken'),
    payErrorCode: text('PayErrorCode'),
    paymentError: text('PaymentError'),
    connectorError: text('ConnectorError'),
    connectorParameters: connectorParametersOf(form),
  };
}

/** At most this many `PayConnector_*` values are kept, each at most this long: what a connector answers is bounded here too. */
const MAX_CONNECTOR_PARAMETERS = 20;
const MAX_CONNECTOR_PARAMETER_LENGTH = 255;

function connectorParametersOf(form: Record<string, unknown>): Record<string, string> | undefined {
  const entries = Object.entries(form)
    .filter((entry): entry is [string, string] => /^PayConnector_[A-Za-z0-9_]{1,64}$/.test(entry[0]) && typeof entry[1] === 'string')
    // A connector of someone else's could answer anything: a long run of digits is never kept.
    .filter(([, value]) => !/[0-9]{12}/.test(value.replace(/[\s-]/g, '')))
    .slice(0, MAX_CONNECTOR_PARAMETERS)
    .map(([name, value]) => [name.slice('PayConnector_'.length), value.slice(0, MAX_CONNECTOR_PARAMETER_LENGTH)]);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

function requiredFields(list: string): FieldKey[] {
  const fields = list
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((name) => FIELD_OF_REQUIRED.get(name.replace(/(Matcher|-matcher)$/, '')))
    .filter((field): field is FieldKey => field !== undefined);
  return [...new Set(fields)];
}

/** How many characters were typed, from a value shown while typing (`xxxxxx`) or once captured. */
export function typedLength(shown: string | undefined): number {
  return (shown ?? '').replace(/[^0-9A-Za-z*•]/g, '').length;
}

/** This service's own masks: the card's last 4, the bank account's last 2-4, the routing number's last 4, nothing else. */
export function mask(field: FieldKey, shown: string): string {
  const digits = shown.replace(/\D/g, '');
  switch (field) {
    case 'card_number': {
      const length = typedLength(shown);
      const hidden = 'x'.repeat(Math.max(0, length - 4)).replace(/(.{4})(?=.)/g, '$1 ');
      return `${hidden} ${digits.slice(-4)}`.trim();
    }
    case 'routing_number':
      return `*****${digits.slice(-4)}`;
    case 'account_number': {
      const length = typedLength(shown);
      const visible = digits.slice(-Math.min(4, digits.length, Math.max(0, length - 4)));
      return `${'*'.repeat(Math.max(0, length - visible.length))}${visible}`;
    }
    case 'postal_code':
      return shown;
    default:
      // The expiry (which Twilio shows in clear) and the security code: only their length.
      return 'x'.repeat(typedLength(shown));
  }
}

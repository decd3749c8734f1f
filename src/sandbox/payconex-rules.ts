import { cardBrand, expiryHasPassed, passesAbaChecksum, passesLuhn } from '../contract/card-brand';

/**
 * The sandbox's documented behaviour for a QSAPI 3.8 request (README, "Sandbox
 * gateway"). Pure: the same fields give the same answer, except for the ids.
 */
export type QsapiFields = Record<string, string | undefined>;
export type QsapiAnswer = Record<string, string | number | boolean>;

/** Amounts that make the sandbox misbehave, for testing the service's handling of gateway faults. */
export const FAULT_TRIGGERS = {
  '2.02': 'slow',
  '3.03': 'http-500',
  '4.04': 'malformed',
  '5.05': 'hang-up',
} as const;
export type Fault = (typeof FAULT_TRIGGERS)[keyof typeof FAULT_TRIGGERS];

export const DECLINE_AMOUNT = '1.01';
/** A card the sandbox always declines (whatever the amount), so that another card on the same payment can succeed. */
export const DECLINE_CARD = '4000000000000002';

const BRAND_NAMES: Record<string, string> = {
  visa: 'VISA',
  mastercard: 'MASTERCARD',
  amex: 'AMERICAN EXPRESS',
  discover: 'DISCOVER',
  diners: 'DINERS',
  jcb: 'JCB',
  unionpay: 'UNIONPAY',
  maestro: 'MAESTRO',
  unknown: 'UNKNOWN',
};

export function faultFor(fields: QsapiFields): Fault | undefined {
  const amount = fields.transaction_amount;
  return amount !== undefined && Object.hasOwn(FAULT_TRIGGERS, amount) ? FAULT_TRIGGERS[amount as keyof typeof FAULT_TRIGGERS] : undefined;
}

/** Validation errors carry only the error fields, as QSAPI's do. */
function invalid(code: number, message: string): QsapiAnswer {
  return { error: true, error_code: code, error_message: message, error_msg: message };
}

export function answerQsapi(fields: QsapiFields, next: { transactionId: string; now: Date }): QsapiAnswer {
  if (!/^\d{12}$/.test(fields.account_id ?? '') || !/^[A-Za-z0-9]{32}$/.test(fields.api_accesskey ?? '')) {
    return invalid(20001, 'Invalid account_id');
  }
  const type = fields.transaction_type;
  if (type !== 'SALE' && type !== 'STORE') return invalid(20003, 'Invalid transaction_type');
  const tender = fields.tender_type;
  if (tender !== 'CARD' && tender !== 'ACH') return invalid(20004, 'Invalid tender_type');

  let amount = '0.00';
  if (type === 'SALE') {
    if (!/^\d{1,7}\.\d{2}$/.test(fields.transaction_amount ?? '') || Number(fields.transaction_amount) <= 0) {
      return invalid(20010, 'Invalid transaction_amount');
    }
    amount = fields.transaction_amount!;
  }

  const echoed: QsapiAnswer = {
    transaction_id: next.transactionId,
    tender_type: tender,
    transaction_type: type,
    transaction_timestamp: next.now.toISOString().replace('T', ' ').slice(0, 19),
    transaction_amount: amount,
    request_amount: amount,
    currency: fields.currency ?? 'USD',
    custom_id: fields.custom_id ?? '',
    custom_data: fields.custom_data ?? '',
  };

  if (tender === 'ACH') {
    const routing = fields.bank_routing_number ?? '';
    const account = fields.bank_account_number ?? '';
    if (!passesAbaChecksum(routing)) return invalid(20019, 'Invalid bank_routing_number');
    if (!/^\d{4,17}$/.test(account)) return invalid(20020, 'Invalid bank_account_number');
    const ach = { ...echoed, last4: account.slice(-4), card_brand: 'ACH' };
    if (type === 'STORE') return { ...ach, error: false, error_code: 0, error_message: '', authorization_message: 'STORED' };
    return approved(ach, 'PENDING', next.transactionId);
  }

  const number = fields.card_number ?? '';
  const expiration = fields.card_expiration ?? '';
  if (!/^\d{12,19}$/.test(number)) return invalid(20011, 'Invalid card_number');
  if (!/^(0[1-9]|1[0-2])\d{2}$/.test(expiration)) return invalid(20012, 'Invalid card_expiration');
  const card: QsapiAnswer = {
    ...echoed,
    last4: number.slice(-4),
    card_brand: BRAND_NAMES[cardBrand(number)]!,
    card_expiration: expiration,
    keyed: true,
    swiped: false,
  };
  if (!passesLuhn(number)) return declined(card, 30370, 'CARD DATA UNREADABLE', 'CARD DATA UNREADABLE', type);
  if (expiryHasPassed(expiration, next.now)) return declined(card, 30002, 'DECLINED', 'EXPIRED CARD', type);
  if (type === 'STORE') return { ...card, error: false, error_code: 0, error_message: '', authorization_message: 'STORED' };
  if (number === DECLINE_CARD) return declined(card, 30002, 'DECLINED', 'CARD DECLINED', type);
  if (amount === DECLINE_AMOUNT) return declined(card, 30002, 'DECLINED', 'CALL AUTH CENTER', type);
  return {
    ...approved(card, 'APPROVED', next.transactionId),
    avs_response: fields.zip ? 'Z' : 'U',
    cvv2_response: fields.card_verification ? 'M' : 'P',
  };
}

function approved(base: QsapiAnswer, message: string, transactionId: string): QsapiAnswer {
  return {
    ...base,
    transaction_approved: true,
    error: false,
    error_code: 0,
    error_message: '',
    authorization_code: `SB${transactionId.slice(-4)}`,
    authorization_message: message,
  };
}

function declined(base: QsapiAnswer, code: number, message: string, authorization: string, type: string): QsapiAnswer {
  // STORE answers never carry transaction_approved, approved or not.
  const approval: QsapiAnswer = type === 'SALE' ? { transaction_approved: false } : {};
  return { ...base, ...approval, error: true, error_code: code, error_message: message, error_msg: message, authorization_message: authorization };
}


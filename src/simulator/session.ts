import { randomBytes } from 'node:crypto';
import { Secret, secret } from '../redaction/secret';
import { checkField, type CaptureField } from './card-rules';
import { callConnector, type ConnectorConfig } from './connector-call';
import { connectorRequest, isCharge, maskedFields } from './payment-fields';

/** The names `Required` lists (Twilio's example: `Required=ExpirationDate`). */
const REQUIRED_NAMES: Record<CaptureField, string> = {
  'payment-card-number': 'PaymentCardNumber',
  'expiration-date': 'ExpirationDate',
  'security-code': 'SecurityCode',
  'postal-code': 'PostalCode',
  'bank-routing-number': 'BankRoutingNumber',
  'bank-account-number': 'BankAccountNumber',
};

/** The callback field that shows each captured field. */
const CALLBACK_NAMES: Record<CaptureField, string> = {
  'payment-card-number': 'PaymentCardNumber',
  'expiration-date': 'ExpirationDate',
  'security-code': 'SecurityCode',
  'postal-code': 'PaymentCardPostalCode',
  'bank-routing-number': 'BankRoutingNumber',
  'bank-account-number': 'BankAccountNumber',
};

export interface SessionSettings {
  accountSid: string;
  callSid: string;
  statusCallback: string;
  paymentMethod: 'credit-card' | 'ach-debit';
  chargeAmount?: string;
  currency: string;
  tokenType: string;
  connectorName: string;
  connector: ConnectorConfig;
  validCardTypes: string[];
  securityCode: boolean;
  postalCode: boolean;
  minPostalCodeLength: number;
  timeoutSeconds: number;
  bankAccountType?: string;
  parameters: Record<string, string>;
  description?: string;
}

export interface SessionHooks {
  /** Posts one status callback (form fields); callbacks of a session go out in order. */
  notify(url: string, fields: Record<string, string>): Promise<void>;
  connectorWaitMs: number;
  connectorRetries: number;
}

export type SessionState = 'active' | 'completing' | 'ended';
export { CAPTURE_FIELDS, type CaptureField } from './card-rules';

/**
 * One agent-assisted pay session. Captured values are Secrets from the first
 * digit; callbacks carry only masked forms.
 */
export class PaySession {
  readonly sid = `PK${randomBytes(16).toString('hex')}`;
  readonly createdAt = new Date();
  updatedAt = new Date();
  state: SessionState = 'active';
  private readonly captured = new Map<CaptureField, Secret>();
  private capturing?: { field: CaptureField; digits: string; timer?: NodeJS.Timeout };
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly settings: SessionSettings,
    private readonly hooks: SessionHooks,
  ) {}

  get isCharge(): boolean {
    return isCharge(this.settings);
  }

  required(): CaptureField[] {
    const fields: CaptureField[] =
      this.settings.paymentMethod === 'ach-debit'
        ? ['bank-routing-number', 'bank-account-number']
        : [
            'payment-card-number',
            'expiration-date',
            ...(this.settings.securityCode ? (['security-code'] as const) : []),
            ...(this.settings.postalCode ? (['postal-code'] as const) : []),
          ];
    return fields.filter((field) => !this.captured.has(field));
  }

  accepts(field: CaptureField): boolean {
    const bank = field.startsWith('bank-');
    return this.settings.paymentMethod === 'ach-debit' ? bank : !bank;
  }

  /** `Capture=<field>`: the caller is asked for it (again, if it was captured before). */
  capture(field: CaptureField): void {
    this.stopCapture();
    this.touch();
    if (field === 'security-code' && !this.captured.has('payment-card-number')) {
      this.send({ Capture: field, PartialResult: 'false', ErrorType: 'invalid-card-number-security-code-capture-sequence' });
      return;
    }
    this.captured.delete(field);
    this.capturing = { field, digits: '' };
    this.armTimeout();
    this.send({ Capture: field, PartialResult: 'true' });
  }

  /** Keypad input: digits build the field, `#` ends it, `*` starts it over. */
  keypad(keys: string): void {
    if (!this.capturing) return;
    for (const key of keys) {
      if (!this.capturing) break;
      if (key === '*') this.capturing.digits = '';
      else if (key === '#') this.finishField();
      else if (/\d/.test(key)) this.capturing.digits += key;
    }
    if (this.capturing) {
      this.armTimeout();
      this.touch();
      this.send({ Capture: this.capturing.field, PartialResult: 'true' });
    }
  }

  /** `Status=complete`: the connector is called as Twilio calls it; the result arrives as a callback. */
  complete(): void {
    this.stopCapture();
    this.state = 'completing';
    this.touch();
    void this.payThroughConnector();
  }

  cancel(): void {
    this.end({});
  }

  hangUp(): void {
    this.end({ Result: 'caller-hung-up' });
  }

  /** Resolves once every callback queued so far has been posted. */
  settled(): Promise<void> {
    return this.chain;
  }

  private finishField(): void {
    const { field, digits } = this.capturing!;
    this.stopCapture();
    this.touch();
    const error = checkField(field, digits, { ...this.settings, cardNumber: this.captured.get('payment-card-number')?.reveal() });
    if (error) {
      this.send({ Capture: field, PartialResult: 'false', ErrorType: error });
      return;
    }
    this.captured.set(field, field === 'payment-card-number' ? secret.cardNumber(digits) : secret.hidden(digits));
    this.send({ Capture: field, PartialResult: 'false' });
  }

  private armTimeout(): void {
    clearTimeout(this.capturing?.timer);
    if (!this.capturing) return;
    this.capturing.timer = setTimeout(() => {
      const field = this.capturing?.field;
      this.stopCapture();
      if (field) this.send({ Capture: field, PartialResult: 'false', ErrorType: 'input-timeout' });
    }, this.settings.timeoutSeconds * 1000);
    this.capturing.timer.unref();
  }

  private stopCapture(): void {
    clearTimeout(this.capturing?.timer);
    this.capturing = undefined;
  }

  private async payThroughConnector(): Promise<void> {
    const outcome = await callConnector(this.settings.connector, connectorRequest(this.settings, (field) => this.captured.get(field)?.reveal()), {
      waitMs: this.hooks.connectorWaitMs,
      retries: this.hooks.connectorRetries,
    });
    const idKey = this.isCharge ? 'charge_id' : 'token_id';
    const rejected = this.isCharge ? 'Payment Gateway rejected charge creation.' : 'Payment Gateway rejected token creation.';
    const failureCode = this.isCharge ? '64008' : '64010';
    if (outcome.kind === 'answer' && outcome.status === 200 && outcome.body.error_code == null && typeof outcome.body[idKey] === 'string') {
      const id = String(outcome.body[idKey]);
      this.end({ Result: 'success', ...(this.isCharge ? { PaymentConfirmationCode: id } : { PaymentToken: id }) });
    } else if (outcome.kind === 'answer') {
      this.end({
        Result: 'payment-connector-error',
        ConnectorError: String(outcome.body.error_code ?? `HTTP ${outcome.status}`),
        PayErrorCode: failureCode,
        PaymentError: String(outcome.body.error_message ?? rejected),
      });
    } else {
      const why = outcome.kind === 'malformed' ? 'Got malformed response from Payment Provider.' : 'No answer from Payment Provider.';
      this.end({ Result: 'payment-connector-error', PayErrorCode: failureCode, PaymentError: `${rejected} ${why}` });
    }
  }

  private end(fields: Record<string, string>): void {
    this.stopCapture();
    this.state = 'ended';
    this.touch();
    // Nothing captured outlives the session: the final callback carries the masks, taken now.
    const final = { ...this.maskedFields(), Required: this.requiredNames(), ...fields };
    this.captured.clear();
    this.send(final);
  }

  private requiredNames(): string {
    return this.required().map((field) => REQUIRED_NAMES[field]).join(',');
  }

  private touch(): void {
    this.updatedAt = new Date();
  }

  /** Queues a callback with the fields Twilio always sends and the masked capture state. */
  private send(fields: Record<string, string>): void {
    const body: Record<string, string> = {
      AccountSid: this.settings.accountSid,
      CallSid: this.settings.callSid,
      Sid: this.sid,
      DateCreated: rfc2822(this.createdAt),
      DateUpdated: rfc2822(this.updatedAt),
      PaymentMethod: this.settings.paymentMethod,
      PaymentConnector: this.settings.connectorName,
      TokenType: this.settings.tokenType,
      ChargeAmount: this.settings.chargeAmount ?? '',
      // Sent always (twilio-pay-sessions.md §1.4); a card session has none, so it is blank like ChargeAmount.
      BankAccountType: this.settings.bankAccountType ?? '',
      ...this.maskedFields(),
      Required: this.requiredNames(),
      ...fields,
    };
    const url = this.settings.statusCallback;
    this.chain = this.chain.then(() => this.hooks.notify(url, body)).catch(() => undefined);
  }

  /** The masked capture state; the field being typed shows one x per digit so far. */
  private maskedFields(): Record<string, string> {
    const typing = this.capturing;
    const fields = maskedFields((field) => (typing?.field === field ? undefined : this.captured.get(field)?.reveal()));
    if (typing) fields[CALLBACK_NAMES[typing.field]] = 'x'.repeat(typing.digits.length);
    return fields;
  }
}

/** Twilio's date format: RFC 2822 in UTC, `Wed, 25 Nov 2026 14:55:27 +0000`. */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

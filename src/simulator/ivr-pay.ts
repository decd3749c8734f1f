import { Secret, secret } from '../redaction/secret';
import { checkField, type CaptureField, type FieldError } from './card-rules';
import { callConnector, type ConnectorConfig } from './connector-call';
import { connectorRequest, isCharge, maskedFields } from './payment-fields';
import type { PayPrompt } from './twiml';

/** The attributes of a TwiML `<Pay>` verb (twilio-pay-sessions.md §2.1) the simulator honours. */
export interface PayVerb {
  accountSid: string;
  callSid: string;
  action: string;
  statusCallback?: string;
  paymentMethod: 'credit-card' | 'ach-debit';
  chargeAmount?: string;
  currency: string;
  timeoutSeconds: number;
  maxAttempts: number;
  securityCode: boolean;
  /** true, false, or a literal postal code passed on without prompting. */
  postalCode: boolean | string;
  minPostalCodeLength: number;
  connectorName: string;
  connector: ConnectorConfig;
  validCardTypes: string[];
  bankAccountType: string;
  description?: string;
  parameters: Record<string, string>;
  /** Custom `<Prompt>`s; a field with none matching gets the default prompt. */
  prompts: PayPrompt[];
}

const PROMPTS: Record<CaptureField, string> = {
  'payment-card-number': 'Please enter your card number, followed by the pound key.',
  'expiration-date': 'Please enter your expiration date, two digits for the month and two for the year.',
  'security-code': 'Please enter your security code, followed by the pound key.',
  'postal-code': 'Please enter your zip code, followed by the pound key.',
  'bank-routing-number': 'Please enter your bank routing number, followed by the pound key.',
  'bank-account-number': 'Please enter your bank account number, followed by the pound key.',
};

/**
 * IVR self-service: `<Pay>` prompts for each field in order, takes keypad digits,
 * allows `maxAttempts` tries per field, ends on `*`, then calls the connector and
 * posts the `action` request. Prompts are text events; digits are never echoed.
 */
export class IvrPay {
  readonly events: string[] = [];
  ended = false;
  private readonly fields: CaptureField[];
  private readonly captured = new Map<CaptureField, Secret>();
  private index = 0;
  private attempt = 1;
  private digits = '';
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly verb: PayVerb,
    private readonly post: (url: string, fields: Record<string, string>) => Promise<void>,
    private readonly connectorTiming: { waitMs: number; retries: number },
  ) {
    this.fields =
      verb.paymentMethod === 'ach-debit'
        ? ['bank-routing-number', 'bank-account-number']
        : [
            'payment-card-number',
            'expiration-date',
            ...(verb.securityCode ? (['security-code'] as const) : []),
            ...(verb.postalCode === true ? (['postal-code'] as const) : []),
          ];
    this.prompt();
  }

  get isCharge(): boolean {
    return isCharge(this.verb);
  }

  keypad(keys: string): void {
    for (const key of keys) {
      if (this.ended) return;
      if (key === '*') return this.finish({ Result: 'caller-interrupted-with-star' });
      if (key === '#') this.fieldEntered();
      else if (/\d/.test(key)) this.digits += key;
    }
    if (!this.ended) this.armTimeout();
  }

  hangUp(): void {
    if (!this.ended) this.finish({ Result: 'caller-hung-up' });
  }

  settled(): Promise<void> {
    return this.chain;
  }

  private get field(): CaptureField {
    return this.fields[this.index]!;
  }

  private prompt(afterError?: FieldError | 'input-timeout'): void {
    this.digits = '';
    const custom = this.verb.prompts.find(
      (prompt) =>
        prompt.for === this.field &&
        (!prompt.attempts || prompt.attempts.includes(this.attempt)) &&
        (!prompt.errorTypes || (afterError !== undefined && prompt.errorTypes.includes(afterError))),
    );
    if (custom) this.events.push(custom.text);
    else this.events.push(...(afterError ? ['That entry was not valid.'] : []), PROMPTS[this.field]);
    this.armTimeout();
  }

  private fieldEntered(): void {
    const error = checkField(this.field, this.digits, { ...this.verb, cardNumber: this.captured.get('payment-card-number')?.reveal() });
    if (error) return this.failedAttempt(error);
    this.captured.set(this.field, this.field === 'payment-card-number' ? secret.cardNumber(this.digits) : secret.hidden(this.digits));
    this.status({ For: this.field, Attempt: String(this.attempt) });
    this.index += 1;
    this.attempt = 1;
    if (this.index < this.fields.length) this.prompt();
    else void this.pay();
  }

  private failedAttempt(error: FieldError | 'input-timeout'): void {
    this.status({ For: this.field, Attempt: String(this.attempt), ErrorType: error });
    if (this.attempt >= this.verb.maxAttempts) return this.finish({ Result: 'too-many-failed-attempts', PaymentError: error });
    this.attempt += 1;
    this.prompt(error);
  }

  private armTimeout(): void {
    clearTimeout(this.timer);
    if (this.ended) return;
    this.timer = setTimeout(() => this.failedAttempt('input-timeout'), this.verb.timeoutSeconds * 1000);
    this.timer.unref();
  }

  private async pay(): Promise<void> {
    clearTimeout(this.timer);
    this.status({ For: 'payment-processing', Attempt: '1' });
    this.events.push('Thank you. Please wait while we process your payment.');
    const body = connectorRequest(this.verb, (field) => this.capturedValue(field));
    const outcome = await callConnector(this.verb.connector, body, this.connectorTiming);
    const idKey = this.isCharge ? 'charge_id' : 'token_id';
    if (outcome.kind === 'answer' && outcome.status === 200 && outcome.body.error_code == null && typeof outcome.body[idKey] === 'string') {
      const id = String(outcome.body[idKey]);
      // The connector's answer parameters reach the action as PayConnector_<key> (<Pay> only).
      const extra = Object.fromEntries(
        Object.entries((outcome.body.parameters as Record<string, unknown> | undefined) ?? {}).map(([key, value]) => [`PayConnector_${key}`, String(value)]),
      );
      return this.finish({ Result: 'success', ...(this.isCharge ? { PaymentConfirmationCode: id } : { PaymentToken: id }), ...extra });
    }
    const code = this.isCharge ? '64008' : '64010';
    if (outcome.kind === 'answer') {
      return this.finish({ Result: 'payment-connector-error', ConnectorError: String(outcome.body.error_code ?? `HTTP ${outcome.status}`), PayErrorCode: code, PaymentError: String(outcome.body.error_message ?? '') });
    }
    this.finish({ Result: 'payment-connector-error', PayErrorCode: code, PaymentError: 'Payment Gateway rejected the request. Got malformed response from Payment Provider.' });
  }

  private finish(fields: Record<string, string>): void {
    clearTimeout(this.timer);
    this.ended = true;
    this.queue(this.verb.action, { ...this.common(), ...fields });
    // Nothing captured outlives the call's <Pay>: the action request already holds the masks.
    this.captured.clear();
  }

  private status(fields: Record<string, string>): void {
    if (this.verb.statusCallback) this.queue(this.verb.statusCallback, { ...this.common(), ...fields });
  }

  private queue(url: string, fields: Record<string, string>): void {
    this.chain = this.chain.then(() => this.post(url, fields)).catch(() => undefined);
  }

  /** What was captured, in clear; a literal postalCode attribute stands for the caller's entry. */
  private capturedValue(field: CaptureField): string | undefined {
    if (field === 'postal-code' && typeof this.verb.postalCode === 'string') return this.verb.postalCode;
    return this.captured.get(field)?.reveal();
  }

  /** The call's identity and the masked payment fields, as Twilio puts them on both requests. */
  private common(): Record<string, string> {
    return {
      AccountSid: this.verb.accountSid,
      CallSid: this.verb.callSid,
      PaymentMethod: this.verb.paymentMethod,
      ...(this.verb.paymentMethod === 'ach-debit' ? { BankAccountType: this.verb.bankAccountType } : {}),
      ...maskedFields((field) => this.capturedValue(field)),
    };
  }
}

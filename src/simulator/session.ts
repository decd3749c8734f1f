import { randomBytes } from 'node:crypto';
import { Secret, bankAccountVisibleDigits, secret } from '../redaction/secret';
import { checkField, type CaptureField } from './card-rules';
import { payThroughConnector } from './connector-result';
import { isCharge, maskedFields } from './payment-fields';
import type { PayOptions } from './pay-options';
import { fieldsToCapture, matcherOf, requiredNames } from './required-fields';

/** The callback field that shows each captured field. */
const CALLBACK_NAMES: Record<CaptureField, string> = {
  'payment-card-number': 'PaymentCardNumber',
  'expiration-date': 'ExpirationDate',
  'security-code': 'SecurityCode',
  'postal-code': 'PaymentCardPostalCode',
  'bank-routing-number': 'BankRoutingNumber',
  'bank-account-number': 'BankAccountNumber',
};

export interface SessionSettings extends PayOptions {
  accountSid: string;
  callSid: string;
  statusCallback: string;
}

export interface SessionHooks {
  /** Posts one status callback (form fields, signed); callbacks of a session go out in order. */
  notify(url: string, fields: Record<string, string>): Promise<unknown>;
  /** What the call says to the caller (the confirmation prompt). */
  say(text: string): void;
  connectorWaitMs: number;
  connectorRetries: number;
}

/**
 * `active` while fields are captured; `confirming` after Status=complete with Confirmation=true,
 * until the caller presses 1 or 2; `completing` while the connector is called; then `ended`.
 */
export type SessionState = 'active' | 'confirming' | 'completing' | 'ended';
export { CAPTURE_FIELDS, type CaptureField } from './card-rules';

/** What the keypad is building: a field, or its second entry when RequireMatchingInputs lists it. */
interface Typing {
  field: CaptureField;
  matcher: boolean;
  digits: string;
  timer?: NodeJS.Timeout;
}

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
  /** Fields whose second entry matched the first. */
  private readonly matched = new Set<CaptureField>();
  private typing?: Typing;
  private confirmationTimer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly settings: SessionSettings,
    private readonly hooks: SessionHooks,
  ) {}

  get isCharge(): boolean {
    return isCharge(this.settings);
  }

  /** The fields still to capture. */
  required(): CaptureField[] {
    return fieldsToCapture(this.settings).filter((field) => !this.captured.has(field));
  }

  /** The fields RequireMatchingInputs lists that the payment needs and that have not matched yet. */
  unmatched(): CaptureField[] {
    const needed = fieldsToCapture(this.settings);
    return this.settings.requireMatchingInputs.filter((field) => needed.includes(field) && !this.matched.has(field));
  }

  /** Complete is allowed once nothing is missing: every field captured and every listed field matched. */
  isReadyToComplete(): boolean {
    return this.required().length === 0 && this.unmatched().length === 0;
  }

  accepts(field: CaptureField): boolean {
    const bank = field.startsWith('bank-');
    return this.settings.paymentMethod === 'ach-debit' ? bank : !bank;
  }

  /** `Capture=<field>`: the caller is asked for it (again, if it was captured before). */
  capture(field: CaptureField): void {
    this.stopTyping();
    this.touch();
    if (field === 'security-code' && !this.captured.has('payment-card-number')) {
      this.send({ Capture: field, PartialResult: 'false', ErrorType: 'invalid-card-number-security-code-capture-sequence' });
      return;
    }
    this.captured.delete(field);
    this.matched.delete(field);
    this.startTyping(field, false);
  }

  /** `Capture=<field>-matcher`: the caller types the field a second time, to be compared with the first. */
  captureMatcher(field: CaptureField): void {
    this.stopTyping();
    this.touch();
    if (!this.captured.has(field)) {
      // Nothing to match against yet: the second entry cannot come before the first.
      this.send({ Capture: matcherOf(field), PartialResult: 'false', ErrorType: 'input-matching-failed' });
      return;
    }
    this.matched.delete(field);
    this.startTyping(field, true);
  }

  /** Keypad input: digits build the field, `#` ends it, `*` starts it over; 1 or 2 answer a confirmation. */
  keypad(keys: string): void {
    if (this.state === 'confirming') return this.confirmWith(keys);
    if (!this.typing) return;
    for (const key of keys) {
      if (!this.typing) break;
      if (key === '*') this.typing.digits = '';
      else if (key === '#') this.finishField();
      else if (/\d/.test(key)) this.typing.digits += key;
    }
    if (this.typing) {
      this.armTimeout();
      this.touch();
      this.send({ Capture: this.captureName(this.typing), PartialResult: 'true' });
    }
  }

  /** `Status=complete`: the connector is called as Twilio calls it, after the caller confirms if asked to. */
  complete(): void {
    this.stopTyping();
    this.touch();
    if (this.settings.confirmation) {
      this.state = 'confirming';
      this.askForConfirmation();
      return;
    }
    this.startPayment();
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

  private startTyping(field: CaptureField, matcher: boolean): void {
    this.typing = { field, matcher, digits: '' };
    this.armTimeout();
    this.send({ Capture: this.captureName(this.typing), PartialResult: 'true' });
  }

  private captureName(typing: Typing): string {
    return typing.matcher ? matcherOf(typing.field) : typing.field;
  }

  private finishField(): void {
    const typing = this.typing;
    if (!typing) return;
    this.stopTyping();
    this.touch();
    const { field, digits, matcher } = typing;
    if (matcher) {
      if (this.captured.get(field)?.reveal() === digits) {
        this.matched.add(field);
        this.send({ Capture: matcherOf(field), PartialResult: 'false' });
      } else {
        // Which of the two entries was wrong is unknown: both go, and the field is required again.
        this.captured.delete(field);
        this.send({ Capture: matcherOf(field), PartialResult: 'false', ErrorType: 'input-matching-failed' });
      }
      return;
    }
    const error = checkField(field, digits, { ...this.settings, cardNumber: this.captured.get('payment-card-number')?.reveal() });
    if (error) {
      this.send({ Capture: field, PartialResult: 'false', ErrorType: error });
      return;
    }
    this.captured.set(field, field === 'payment-card-number' ? secret.cardNumber(digits) : secret.hidden(digits));
    this.send({ Capture: field, PartialResult: 'false' });
  }

  private armTimeout(): void {
    clearTimeout(this.typing?.timer);
    if (!this.typing) return;
    const typing = this.typing;
    typing.timer = setTimeout(() => {
      this.stopTyping();
      this.send({ Capture: this.captureName(typing), PartialResult: 'false', ErrorType: 'input-timeout' });
    }, this.settings.timeoutSeconds * 1000);
    typing.timer.unref();
  }

  private stopTyping(): void {
    clearTimeout(this.typing?.timer);
    this.typing = undefined;
  }

  /** The caller hears the last digits of the card or account, then presses 1 or 2 within Timeout. */
  private askForConfirmation(): void {
    const card = this.captured.get('payment-card-number')?.reveal();
    const account = this.captured.get('bank-account-number')?.reveal();
    const ending = card ? `a card ending in ${card.slice(-4)}` : `an account ending in ${(account ?? '').slice(-bankAccountVisibleDigits(account ?? ''))}`;
    this.hooks.say(`You entered ${ending}. Press 1 to confirm, or 2 to cancel.`);
    clearTimeout(this.confirmationTimer);
    this.confirmationTimer = setTimeout(() => this.end({ ErrorType: 'input-timeout' }), this.settings.timeoutSeconds * 1000);
    this.confirmationTimer.unref();
  }

  private confirmWith(keys: string): void {
    const answer = [...keys].find((key) => key === '1' || key === '2');
    if (answer === '1') {
      this.startPayment();
    } else if (answer === '2') {
      this.hooks.say('Your payment has been cancelled.');
      this.end({});
    } else {
      this.askForConfirmation();
    }
  }

  private startPayment(): void {
    clearTimeout(this.confirmationTimer);
    this.state = 'completing';
    this.touch();
    void this.pay();
  }

  private async pay(): Promise<void> {
    const result = await payThroughConnector(this.settings, (field) => this.captured.get(field)?.reveal(), {
      waitMs: this.hooks.connectorWaitMs,
      retries: this.hooks.connectorRetries,
    });
    // The connector's answer parameters are a <Pay> feature: Payments callbacks never carry them.
    this.end(result.fields);
  }

  private end(fields: Record<string, string>): void {
    if (this.state === 'ended') return;
    this.stopTyping();
    clearTimeout(this.confirmationTimer);
    this.state = 'ended';
    this.touch();
    // Nothing captured outlives the session: the final callback carries the masks, taken now.
    const final = { ...this.maskedFields(), Required: this.requiredNames(), ...fields };
    this.captured.clear();
    this.send(final);
  }

  private requiredNames(): string {
    return requiredNames(this.required(), this.unmatched());
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
    this.chain = this.chain.then(() => this.hooks.notify(url, body)).then(
      () => undefined,
      () => undefined,
    );
  }

  /** The masked capture state; the field being typed shows one x per digit so far. */
  private maskedFields(): Record<string, string> {
    const typing = this.typing;
    const fields = maskedFields((field) => (typing?.field === field ? undefined : this.captured.get(field)?.reveal()));
    if (typing) fields[CALLBACK_NAMES[typing.field]] = 'x'.repeat(typing.digits.length);
    return fields;
  }
}

/** Twilio's date format: RFC 2822 in UTC, `Wed, 25 Nov 2026 14:55:27 +0000`. */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

import { Secret, secret } from '../redaction/secret';
import { cardTypeOf, checkField, type CaptureField, type FieldError } from './card-rules';
import { payConnectorFields, payThroughConnector } from './connector-result';
import { isCharge, maskedFields } from './payment-fields';
import type { PayOptions } from './pay-options';
import { fieldsToCapture } from './required-fields';
import type { PayPrompt } from './twiml';

/** A TwiML `<Pay>` verb (twilio-pay-sessions.md §2.1) on one call: the shared options and what only `<Pay>` has. */
export interface PayVerb extends PayOptions {
  accountSid: string;
  callSid: string;
  statusCallback?: string;
  maxAttempts: number;
  /** Custom `<Prompt>`s; a step with none matching gets the default prompt. */
  prompts: PayPrompt[];
}

export interface IvrPayHooks {
  /** Posts one status callback (form fields, signed). */
  notify(url: string, fields: Record<string, string>): Promise<unknown>;
  /** What the call says to the caller. */
  say(text: string): void;
  connectorTiming: { waitMs: number; retries: number };
}

type PayError = FieldError | 'input-timeout' | 'input-matching-failed';

const PROMPTS: Record<CaptureField, string> = {
  'payment-card-number': 'Please enter your card number, followed by the pound key.',
  'expiration-date': 'Please enter your expiration date, two digits for the month and two for the year.',
  'security-code': 'Please enter your security code, followed by the pound key.',
  'postal-code': 'Please enter your zip code, followed by the pound key.',
  'bank-routing-number': 'Please enter your bank routing number, followed by the pound key.',
  'bank-account-number': 'Please enter your bank account number, followed by the pound key.',
};
const MATCHING_PROMPTS: Record<CaptureField, string> = {
  'payment-card-number': 'Please enter your card number again, followed by the pound key.',
  'expiration-date': 'Please enter your expiration date again.',
  'security-code': 'Please enter your security code again, followed by the pound key.',
  'postal-code': 'Please enter your zip code again, followed by the pound key.',
  'bank-routing-number': 'Please enter your bank routing number again, followed by the pound key.',
  'bank-account-number': 'Please enter your bank account number again, followed by the pound key.',
};
const PROCESSING_PROMPT = 'Thank you. Please wait while we process your payment.';

/**
 * IVR self-service: `<Pay>` prompts for each field in order, takes keypad digits, asks again
 * for a field that must match, allows `maxAttempts` tries per field, ends on `*`, then calls
 * the connector. `done` resolves with the action request's fields (the caller's call goes on
 * with the TwiML the action answers), or with nothing if the call was redirected away.
 * Prompts are said through the call; digits are never echoed.
 */
export class IvrPay {
  ended = false;
  readonly done: Promise<Record<string, string> | undefined>;
  private resolveDone: (fields: Record<string, string> | undefined) => void = () => undefined;
  private readonly fields: CaptureField[];
  private readonly captured = new Map<CaptureField, Secret>();
  private index = 0;
  private attempt = 1;
  /** True while the caller types the field a second time. */
  private matching = false;
  private digits = '';
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly verb: PayVerb,
    private readonly hooks: IvrPayHooks,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.fields = fieldsToCapture(verb);
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

  /** The call was redirected away (live call control): no action request, nothing kept. */
  abandon(): void {
    if (this.ended) return;
    clearTimeout(this.timer);
    this.ended = true;
    this.captured.clear();
    this.resolveDone(undefined);
  }

  /** Resolves once every status callback queued so far has been posted. */
  settled(): Promise<void> {
    return this.chain;
  }

  private get field(): CaptureField {
    return this.fields[this.index] as CaptureField;
  }

  private prompt(afterError?: PayError): void {
    this.digits = '';
    const cardType = this.capturedValue('payment-card-number');
    const custom = this.verb.prompts.find(
      (prompt) =>
        prompt.for === this.field &&
        prompt.requireMatchingInputs === this.matching &&
        (!prompt.attempts || prompt.attempts.includes(this.attempt)) &&
        (!prompt.errorTypes || (afterError !== undefined && prompt.errorTypes.includes(afterError))) &&
        (!prompt.cardTypes || (cardType !== undefined && prompt.cardTypes.includes(cardTypeOf(cardType) ?? ''))),
    );
    if (custom) this.hooks.say(custom.text);
    else {
      if (afterError) this.hooks.say(afterError === 'input-matching-failed' ? 'The two entries did not match.' : 'That entry was not valid.');
      this.hooks.say((this.matching ? MATCHING_PROMPTS : PROMPTS)[this.field]);
    }
    this.armTimeout();
  }

  private fieldEntered(): void {
    if (this.matching) return this.matchEntered();
    const error = checkField(this.field, this.digits, { ...this.verb, cardNumber: this.captured.get('payment-card-number')?.reveal() });
    if (error) return this.failedAttempt(error);
    this.captured.set(this.field, this.field === 'payment-card-number' ? secret.cardNumber(this.digits) : secret.hidden(this.digits));
    if (this.verb.requireMatchingInputs.includes(this.field)) {
      this.matching = true;
      return this.prompt();
    }
    this.fieldDone();
  }

  private matchEntered(): void {
    if (this.captured.get(this.field)?.reveal() !== this.digits) {
      // Which entry was wrong is unknown: the field starts over from its first entry.
      this.captured.delete(this.field);
      this.matching = false;
      return this.failedAttempt('input-matching-failed');
    }
    this.matching = false;
    this.fieldDone();
  }

  private fieldDone(): void {
    this.status({ For: this.field, Attempt: String(this.attempt) });
    this.index += 1;
    this.attempt = 1;
    if (this.index < this.fields.length) this.prompt();
    else void this.pay();
  }

  private failedAttempt(error: PayError): void {
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
    const custom = this.verb.prompts.find((prompt) => prompt.for === 'payment-processing');
    this.hooks.say(custom?.text || PROCESSING_PROMPT);
    const result = await payThroughConnector(this.verb, (field) => this.capturedValue(field), this.hooks.connectorTiming);
    if (this.ended) return; // hung up or redirected while the connector was called
    this.finish({ ...result.fields, ...payConnectorFields(result.connectorParameters) });
  }

  private finish(fields: Record<string, string>): void {
    clearTimeout(this.timer);
    this.ended = true;
    const action = { ...this.common(), ...fields };
    // Nothing captured outlives the call's <Pay>: the action request already holds the masks.
    this.captured.clear();
    // The action request goes after every status callback queued before it.
    void this.chain.then(() => this.resolveDone(action));
  }

  private status(fields: Record<string, string>): void {
    const url = this.verb.statusCallback;
    if (!url) return;
    const body = { ...this.common(), ...fields };
    this.chain = this.chain.then(() => this.hooks.notify(url, body)).then(
      () => undefined,
      () => undefined,
    );
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
      ...(this.verb.bankAccountType ? { BankAccountType: this.verb.bankAccountType } : {}),
      ...maskedFields((field) => this.capturedValue(field)),
    };
  }
}

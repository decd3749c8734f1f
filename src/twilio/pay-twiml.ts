import twilio from 'twilio';

type VoiceResponse = InstanceType<typeof twilio.twiml.VoiceResponse>;
type PayAttributes = NonNullable<Parameters<VoiceResponse['pay']>[0]>;
type PromptAttributes = NonNullable<Parameters<ReturnType<VoiceResponse['pay']>['prompt']>[0]>;
type SayLanguage = NonNullable<Parameters<VoiceResponse['say']>[0]>['language'];

/** One `<Prompt>` of a `<Pay>`: Twilio says the most specific one that fits the step, attempt, error and card. */
export interface PayPrompt {
  for: NonNullable<PromptAttributes['for']>;
  say: string;
  attempt?: number[];
  errorType?: string[];
  cardType?: string[];
  requireMatchingInputs?: boolean;
}

/** Everything a `<Pay>` verb says, in Twilio's terms. */
export interface PayVerb {
  action: string;
  statusCallback: string;
  paymentConnector: string;
  paymentMethod: 'credit-card' | 'ach-debit';
  /** Absent: the card or account is tokenized, not charged. */
  chargeAmount?: string;
  currency: string;
  description?: string;
  securityCode: boolean;
  postalCode: boolean;
  validCardTypes?: string[];
  maxAttempts: number;
  timeout?: number;
  language?: string;
  prompts: PayPrompt[];
  parameters: Record<string, string>;
}

/**
 * The `<Pay>` TwiML of a hosted payment, built with Twilio's own SDK (the attributes of
 * twilio-pay-sessions.md §2.1). Every attribute is written out, defaults included, so that what
 * the caller is asked never depends on a default Twilio might change.
 */
export function payTwiml(verb: PayVerb): string {
  const response = new twilio.twiml.VoiceResponse();
  const attributes: PayAttributes = {
    input: 'dtmf',
    action: verb.action,
    statusCallback: verb.statusCallback,
    statusCallbackMethod: 'POST',
    paymentConnector: verb.paymentConnector,
    paymentMethod: verb.paymentMethod,
    currency: verb.currency.toLowerCase(),
    maxAttempts: verb.maxAttempts,
    ...(verb.timeout === undefined ? {} : { timeout: verb.timeout }),
    ...(verb.language === undefined ? {} : { language: verb.language as PayAttributes['language'] }),
    ...(verb.description === undefined ? {} : { description: verb.description }),
    ...(verb.chargeAmount === undefined ? { tokenType: 'reusable' as const } : { chargeAmount: verb.chargeAmount }),
    ...(verb.paymentMethod === 'credit-card'
      ? {
          securityCode: verb.securityCode,
          postalCode: String(verb.postalCode),
          ...(verb.validCardTypes ? { validCardTypes: verb.validCardTypes as PayAttributes['validCardTypes'] } : {}),
        }
      : {}),
  };
  const pay = response.pay(attributes);
  for (const prompt of verb.prompts) {
    const element = pay.prompt({
      for: prompt.for,
      ...(prompt.attempt ? { attempt: prompt.attempt } : {}),
      ...(prompt.errorType ? { errorType: prompt.errorType as PromptAttributes['errorType'] } : {}),
      ...(prompt.cardType ? { cardType: prompt.cardType as PromptAttributes['cardType'] } : {}),
      ...(prompt.requireMatchingInputs ? { requireMatchingInputs: true } : {}),
    });
    element.say({ ...(verb.language ? { language: verb.language as SayLanguage } : {}) }, prompt.say);
  }
  for (const [name, value] of Object.entries(verb.parameters)) pay.parameter({ name, value });
  return response.toString();
}

/** The call goes on at `url`, POSTed as Twilio redirects (with the call's parameters). */
export function redirectTwiml(url: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.redirect({ method: 'POST' }, url);
  return response.toString();
}

/** A last sentence, then the call ends. */
export function goodbyeTwiml(sentence: string, language?: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say({ ...(language ? { language: language as SayLanguage } : {}) }, sentence);
  response.hangup();
  return response.toString();
}

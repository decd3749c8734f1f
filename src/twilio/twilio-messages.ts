import twilio from 'twilio';
import { TwilioRefused, TwilioUnavailable } from '../errors';
import { BaseUrlRequestClient, type TwilioAccount } from './twilio-payments';

/** Who link messages are sent as: a number, or a Messaging Service (whose opt-out handling answers STOP). */
export type MessageSender = { from: string } | { messagingServiceSid: string };

/** Twilio's Messages API, through the official SDK. */
export interface TextMessages {
  send(message: { to: string; body: string; statusCallback: string }): Promise<{ sid: string; status: string }>;
}

/**
 * Sends through Twilio's Messages API (the simulator offline: TWILIO_API_BASE). Not retried on a
 * network failure: Messages has no idempotency key, and a second text is worse than none (the
 * merchant can send the link again). Twilio's refusals become TWILIO_REFUSED with Twilio's code.
 */
export function twilioMessages(account: TwilioAccount, sender: MessageSender): TextMessages {
  const httpClient = new BaseUrlRequestClient(account.apiBase.replace(/\/+$/, ''));
  const client = account.apiKey
    ? twilio(account.apiKey, account.apiSecret, { accountSid: account.accountSid, httpClient })
    : twilio(account.accountSid, account.authToken, { httpClient });
  return {
    async send({ to, body, statusCallback }) {
      try {
        const message = await client.messages.create({ to, body, statusCallback, ...sender });
        return { sid: message.sid, status: message.status };
      } catch (error) {
        const refusal = error as { status?: unknown; code?: unknown };
        if (typeof refusal.status === 'number') {
          const code = refusal.code === undefined ? null : String(refusal.code);
          // Twilio's own message may quote the body (the link): only its code travels on.
          throw new TwilioRefused(`Twilio refused the message (HTTP ${refusal.status}${code ? ` ${code}` : ''})`, code);
        }
        throw new TwilioUnavailable('Twilio could not be reached');
      }
    },
  };
}

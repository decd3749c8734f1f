import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import { TwilioRefused, TwilioUnavailable } from '../errors';

/** Where and as whom the service calls Twilio's REST API. */
export interface TwilioAccount {
  accountSid: string;
  authToken: string;
  /** An API key and its secret, used for REST calls instead of the auth token when set. */
  apiKey?: string;
  apiSecret?: string;
  /** https://api.twilio.com, or the simulator's URL offline. */
  apiBase: string;
}

/** Create Payment, as a session asks for it (Twilio's own parameter names). */
export interface CreatePaymentParams {
  idempotencyKey: string;
  statusCallback: string;
  paymentConnector: string;
  paymentMethod: 'credit-card' | 'ach-debit';
  chargeAmount?: string;
  currency?: string;
  description?: string;
  securityCode?: boolean;
  postalCode?: boolean;
  validCardTypes?: string;
  tokenType?: 'one-time' | 'reusable' | 'payment-method';
  parameter?: Record<string, string>;
  requireMatchingInputs?: string;
  confirmation?: boolean;
}

export interface UpdatePaymentParams {
  idempotencyKey: string;
  statusCallback: string;
  capture?: string;
  status?: 'complete' | 'cancel';
}

/** Twilio's Payments API (agent-assisted), through the official SDK. */
export interface TwilioPayments {
  create(callSid: string, params: CreatePaymentParams): Promise<{ paymentSid: string }>;
  update(callSid: string, paymentSid: string, params: UpdatePaymentParams): Promise<void>;
}

/** A network failure is tried again this many times, with the same IdempotencyKey: Twilio answers it once. */
const NETWORK_RETRIES = 2;
const TIMEOUT_MS = 10_000;

/**
 * The official `twilio` SDK, pointed at TWILIO_API_BASE: the SDK has no base-URL option, so its
 * requests go through a RequestClient that sends what it addresses to https://api.twilio.com to
 * the configured base instead. Twilio's refusals become TWILIO_REFUSED with Twilio's own code;
 * a Twilio that cannot be reached, TWILIO_UNAVAILABLE.
 */
export function twilioPayments(account: TwilioAccount): TwilioPayments {
  const httpClient = new BaseUrlRequestClient(account.apiBase.replace(/\/+$/, ''));
  const client = account.apiKey
    ? twilio(account.apiKey, account.apiSecret, { accountSid: account.accountSid, httpClient })
    : twilio(account.accountSid, account.authToken, { httpClient });
  return {
    async create(callSid, params) {
      const payment = await calling(() =>
        client.calls(callSid).payments.create({
          idempotencyKey: params.idempotencyKey,
          statusCallback: params.statusCallback,
          paymentConnector: params.paymentConnector,
          paymentMethod: params.paymentMethod,
          chargeAmount: params.chargeAmount === undefined ? undefined : Number(params.chargeAmount),
          currency: params.currency,
          description: params.description,
          securityCode: params.securityCode,
          postalCode: params.postalCode,
          validCardTypes: params.validCardTypes,
          tokenType: params.tokenType,
          parameter: params.parameter,
          ...(params.requireMatchingInputs ? { requireMatchingInputs: params.requireMatchingInputs } : {}),
          ...(params.confirmation ? { confirmation: 'true' } : {}),
        } as Parameters<ReturnType<typeof client.calls>['payments']['create']>[0]),
      );
      return { paymentSid: payment.sid };
    },
    async update(callSid, paymentSid, params) {
      await calling(() =>
        client
          .calls(callSid)
          .payments(paymentSid)
          .update({
            idempotencyKey: params.idempotencyKey,
            statusCallback: params.statusCallback,
            ...(params.capture ? { capture: params.capture } : {}),
            ...(params.status ? { status: params.status } : {}),
          } as Parameters<ReturnType<ReturnType<typeof client.calls>['payments']>['update']>[0]),
      );
    },
  };
}

/** Runs one SDK call, again on a network failure; Twilio's own refusals are not retried. */
async function calling<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const refusal = error as { status?: unknown; code?: unknown; message?: unknown };
      if (typeof refusal.status === 'number') {
        const code = refusal.code === undefined ? '' : ` ${String(refusal.code)}`;
        // Twilio's message is about the request (a call not in progress, a missing field), never card data.
        throw new TwilioRefused(
          `Twilio refused the request (HTTP ${refusal.status}${code}): ${String(refusal.message ?? '').slice(0, 300)}`,
          refusal.code === undefined ? null : String(refusal.code),
        );
      }
      if (attempt >= NETWORK_RETRIES) throw new TwilioUnavailable('Twilio could not be reached');
    }
  }
}

/** The SDK's own client, with https://api.twilio.com replaced by the configured base. */
export class BaseUrlRequestClient extends twilio.RequestClient {
  constructor(private readonly base: string) {
    super({ timeout: TIMEOUT_MS, keepAlive: true });
  }

  override request<TData>(options: RequestClient.RequestOptions<TData>) {
    return super.request({ ...options, uri: options.uri.replace(/^https:\/\/api\.twilio\.com(?=\/)/, this.base) });
  }
}

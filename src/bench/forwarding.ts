import { loadBenchSettings } from '../config/tool-settings';

/**
 * What the comparison forwarders send: the same QSAPI fields the PayConex mapping
 * builds, written by hand, with no validation, journal or logging.
 */
export function qsapiForm(body: Record<string, string>, authorization: string | undefined): string {
  const [username = '', password = ''] = Buffer.from((authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':');
  return new URLSearchParams({
    account_id: username,
    api_accesskey: password,
    response_format: 'JSON',
    transaction_type: body.method === 'tokenize' ? 'STORE' : 'SALE',
    tender_type: 'CARD',
    card_number: body.cardnumber ?? '',
    card_expiration: (body.expiry_month ?? '').padStart(2, '0') + (body.expiry_year ?? '').slice(-2),
    card_verification: body.cvv ?? '',
    zip: body.postal_code ?? '',
    transaction_amount: Number(body.amount).toFixed(2),
    currency: body.currency_code ?? 'USD',
    transaction_description: body.description ?? '',
    custom_id: body.transaction_id ?? '',
  }).toString();
}

export function connectorAnswer(gatewayAnswer: string): string {
  const parsed = JSON.parse(gatewayAnswer) as { transaction_id?: string };
  return JSON.stringify({ charge_id: parsed.transaction_id ?? null, error_code: null, error_message: null });
}

export function announce(port: number): void {
  process.stdout.write(`${JSON.stringify({ message: 'listening', port })}\n`);
}

/** The gateway a comparison forwarder calls: npm run bench sets SANDBOX_URL for it. */
export function requiredSandboxUrl(): string {
  const url = loadBenchSettings().sandboxUrl;
  if (!url) throw new Error('SANDBOX_URL is not set: the forwarders are started by npm run bench');
  return url;
}

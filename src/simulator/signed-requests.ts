import axios from 'axios';
import twilio from 'twilio';

/** What an app answered to one of the simulator's requests. */
export interface AppAnswer {
  status: number;
  contentType: string;
  body: string;
}

/**
 * Every request the simulator makes to an app (status callbacks, `<Pay>` action requests,
 * TwiML fetches, message status callbacks), signed as Twilio signs them: `X-Twilio-Signature`
 * is the `twilio` package's own computation (HMAC-SHA1 keyed with the account's auth token,
 * over the full URL and the POST parameters sorted by name), so an app that validates with
 * `twilio.validateRequest` or `twilio.webhook()` accepts it as it would accept Twilio's.
 */
export class SignedRequests {
  constructor(private readonly authToken: string) {}

  /** A form POST; `fields` are signed with the URL exactly as it is given. */
  post(url: string, fields: Record<string, string>): Promise<AppAnswer> {
    return this.send('POST', url, fields);
  }

  /** A GET with `fields` in the query string; the signature covers that full URL and no body. */
  get(url: string, fields: Record<string, string>): Promise<AppAnswer> {
    const target = new URL(url);
    for (const [name, value] of Object.entries(fields)) target.searchParams.append(name, value);
    return this.send('GET', target.toString(), {});
  }

  private async send(method: 'GET' | 'POST', url: string, fields: Record<string, string>): Promise<AppAnswer> {
    const response = await axios.request<string>({
      method,
      url,
      data: method === 'POST' ? new URLSearchParams(fields).toString() : undefined,
      headers: {
        ...(method === 'POST' ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
        'X-Twilio-Signature': twilio.getExpectedTwilioSignature(this.authToken, url, fields),
        'User-Agent': 'TwilioProxy/1.1',
      },
      timeout: 15_000,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
      proxy: false,
    });
    return { status: response.status, contentType: String(response.headers['content-type'] ?? ''), body: typeof response.data === 'string' ? response.data : '' };
  }
}

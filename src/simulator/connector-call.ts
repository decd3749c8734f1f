import axios from 'axios';

export interface ConnectorConfig {
  url: string;
  username: string;
  password: string;
  /** Twilio's connector modes: `test` lets only Twilio's test numbers through; `live` (the default) any. */
  mode?: 'test' | 'live';
}

export type ConnectorOutcome =
  | { kind: 'answer'; status: number; body: Record<string, unknown> }
  | { kind: 'malformed'; status: number }
  | { kind: 'no-answer' };

/**
 * Calls a Generic Pay Connector as Twilio does: one JSON POST with Basic auth and no
 * Content-Type, a wait of `waitMs` (Twilio: 10 s), then up to `retries` more
 * attempts with the same body, so the same transaction_id.
 */
export async function callConnector(
  connector: ConnectorConfig,
  body: Record<string, unknown>,
  options: { waitMs: number; retries: number },
): Promise<ConnectorOutcome> {
  const payload = JSON.stringify(body);
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    try {
      const response = await axios.post<string>(connector.url, payload, {
        auth: { username: connector.username, password: connector.password },
        headers: { 'Content-Type': '', 'User-Agent': 'AHC/2.1' },
        timeout: options.waitMs,
        responseType: 'text',
        transformResponse: [(data: unknown) => data],
        validateStatus: () => true,
        maxRedirects: 0,
        proxy: false,
      });
      try {
        const parsed = JSON.parse(response.data) as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
          return { kind: 'answer', status: response.status, body: parsed as Record<string, unknown> };
        }
      } catch {
        // falls through: not JSON
      }
      return { kind: 'malformed', status: response.status };
    } catch {
      // No answer within the wait, or no connection: Twilio tries again with the same transaction_id.
    }
  }
  return { kind: 'no-answer' };
}

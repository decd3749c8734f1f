import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';

/** One REST exchange the SDK had with the simulator, as it went over the wire. */
export interface SdkExchange {
  method: string;
  url: string;
  statusCode: number;
  body: unknown;
}

/**
 * The official SDK pointed at the simulator. The SDK has no base-URL option: its `httpClient`
 * is this RequestClient, which sends what the SDK addresses to https://api.twilio.com to the
 * simulator instead, and keeps each answer as it arrived (to validate against the OpenAPI
 * description). Everything else is the SDK's own: paths, form encoding, auth, errors.
 */
export class SimulatorRequestClient extends twilio.RequestClient {
  readonly exchanges: SdkExchange[] = [];

  constructor(private readonly simulatorUrl: string) {
    super({ keepAlive: false });
  }

  override async request<TData>(options: RequestClient.RequestOptions<TData>) {
    const uri = options.uri.replace(/^https:\/\/api\.twilio\.com(?=\/)/, this.simulatorUrl);
    if (uri === options.uri) throw new Error(`the simulator does not serve ${options.uri}`);
    const response = await super.request({ ...options, uri });
    this.exchanges.push({ method: options.method.toUpperCase(), url: uri, statusCode: response.statusCode, body: response.body });
    return response;
  }
}

export function simulatorSdk(simulatorUrl: string, accountSid: string, authToken: string) {
  const httpClient = new SimulatorRequestClient(simulatorUrl);
  return { client: twilio(accountSid, authToken, { httpClient }), httpClient };
}

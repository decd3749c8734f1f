import twilio from 'twilio';

/**
 * True when `signature` (X-Twilio-Signature) is Twilio's for this URL and these POST parameters,
 * under the account's auth token: the official SDK's check, never a hand-written one. The URL is
 * the one Twilio was given (PUBLIC_URL), not the one the request arrived at behind a proxy.
 */
export function isSignedByTwilio(authToken: string, signature: string, url: string, params: Record<string, unknown>): boolean {
  return twilio.validateRequest(authToken, signature, url, params);
}

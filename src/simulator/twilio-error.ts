/**
 * An error as Twilio's REST API answers it: an HTTP status and one of Twilio's numeric codes,
 * sent as `{code, message, more_info, status}`, which the `twilio` SDK turns into a RestException.
 */
export class TwilioError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = () => new TwilioError(404, 20404, 'The requested resource was not found');

export const sessionInProgress = () => new TwilioError(400, 64021, 'Invalid operation: a pay session is already active on this call (session-in-progress)');

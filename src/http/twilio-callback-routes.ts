import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { InvalidSignature, MissingSignature } from '../errors';
import type { Logger } from '../logging/logger';
import type { AgentSessions } from '../sessions/agent-sessions';
import type { DigitalSessions } from '../sessions/digital-sessions';
import type { IvrSessions } from '../sessions/ivr-sessions';
import { isSignedByTwilio } from '../twilio/request-signature';
import { answerApiFailure } from './api-errors';
import { contextOf, markAuthenticated } from './request-context';

export interface TwilioCallbackOptions {
  sessions: AgentSessions;
  ivr: IvrSessions;
  digital: DigitalSessions;
  authToken: string;
  /** PUBLIC_URL: the URLs Twilio signs are built on it. */
  publicUrl: string;
  logger: Logger;
}

/**
 * What Twilio sends about a session: its status callbacks, routed by the session id in the path;
 * for IVR sessions, the TwiML fetch of the twiml_url and the `<Pay>` action; for digital sessions,
 * the delivery status of their link messages.
 * Nothing is read from a request, let alone changed, before its X-Twilio-Signature is checked.
 */
export function twilioCallbackRoutes(options: TwilioCallbackOptions): Router {
  const router = Router();
  const urlencoded = express.urlencoded({ extended: false, limit: 16 * 1024, type: () => true });
  const base = options.publicUrl.replace(/\/+$/, '');

  const named =
    (route: string): RequestHandler =>
    (_req, res, next) => {
      Object.assign(contextOf(res), { route, apiErrors: true });
      next();
    };
  /** Nothing goes further unless Twilio signed the request: the URL it was given, and its POST parameters. */
  const signedByTwilio: RequestHandler = (req, res, next) => {
    const signature = req.get('x-twilio-signature');
    if (!signature) throw new MissingSignature('X-Twilio-Signature is required');
    const params = req.method === 'POST' ? ((req.body ?? {}) as Record<string, unknown>) : {};
    if (!isSignedByTwilio(options.authToken, signature, base + req.originalUrl, params)) throw new InvalidSignature('X-Twilio-Signature does not match');
    markAuthenticated(contextOf(res));
    next();
  };
  const form = (req: Request) => (req.method === 'POST' ? ((req.body ?? {}) as Record<string, unknown>) : {});
  const twiml = (res: Response, document: string) => res.status(200).type('text/xml').send(document);

  router.post('/twilio/sessions/:id/status', named('/twilio/sessions/{id}/status'), urlencoded, signedByTwilio, async (req, res) => {
    await options.sessions.twilioStatus(String(req.params.id), form(req));
    res.status(200).type('text/plain').send('');
  });

  router.post('/twilio/sessions/:id/sms-status', named('/twilio/sessions/{id}/sms-status'), urlencoded, signedByTwilio, async (req, res) => {
    await options.digital.smsStatus(String(req.params.id), form(req));
    res.status(200).type('text/plain').send('');
  });

  // An IVR session's twiml_url: Twilio fetches it when the merchant's IVR redirects the call (POST by default, GET if told).
  const twimlLink: RequestHandler = async (req, res) => {
    const callSid = form(req).CallSid ?? req.query.CallSid;
    twiml(res, await options.ivr.twiml(String(req.params.token), typeof callSid === 'string' ? callSid : undefined));
  };
  router.post('/twilio/ivr/:token', named('/twilio/ivr/{token}'), urlencoded, signedByTwilio, twimlLink);
  router.get('/twilio/ivr/:token', named('/twilio/ivr/{token}'), signedByTwilio, twimlLink);

  // The <Pay> action: how the payment ended; the answer sends the call back to the merchant.
  router.post('/twilio/ivr/sessions/:id/result', named('/twilio/ivr/sessions/{id}/result'), urlencoded, signedByTwilio, async (req, res) => {
    twiml(res, await options.ivr.result(String(req.params.id), form(req)));
  });
  const answer: ErrorRequestHandler = (error: unknown, _req, res, next) => {
    if (!contextOf(res).apiErrors) return next(error);
    answerApiFailure(res, error, options.logger);
  };
  router.use(answer);
  return router;
}

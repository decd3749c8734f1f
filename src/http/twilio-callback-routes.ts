import express, { Router, type ErrorRequestHandler } from 'express';
import { MissingSignature, InvalidSignature } from '../errors';
import type { Logger } from '../logging/logger';
import type { AgentSessions } from '../sessions/agent-sessions';
import { isSignedByTwilio } from '../twilio/request-signature';
import { answerApiFailure } from './api-errors';
import { contextOf, markAuthenticated } from './request-context';

export interface TwilioCallbackOptions {
  sessions: AgentSessions;
  authToken: string;
  /** PUBLIC_URL: the URLs Twilio signs are built on it. */
  publicUrl: string;
  logger: Logger;
}

/**
 * What Twilio sends about a session (its status callbacks), routed by the session id in the path.
 * Nothing is read from a request, let alone changed, before its X-Twilio-Signature is checked.
 */
export function twilioCallbackRoutes(options: TwilioCallbackOptions): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: 16 * 1024, type: () => true });
  const base = options.publicUrl.replace(/\/+$/, '');

  router.post(
    '/twilio/sessions/:id/status',
    (_req, res, next) => {
      Object.assign(contextOf(res), { route: '/twilio/sessions/{id}/status', apiErrors: true });
      next();
    },
    form,
    async (req, res) => {
      const signature = req.get('x-twilio-signature');
      if (!signature) throw new MissingSignature('X-Twilio-Signature is required');
      const params = (req.body ?? {}) as Record<string, unknown>;
      if (!isSignedByTwilio(options.authToken, signature, base + req.originalUrl, params)) throw new InvalidSignature('X-Twilio-Signature does not match');
      markAuthenticated(contextOf(res));
      await options.sessions.twilioStatus(String(req.params.id), params);
      res.status(200).type('text/plain').send('');
    },
  );
  const answer: ErrorRequestHandler = (error: unknown, _req, res, next) => {
    if (!contextOf(res).apiErrors) return next(error);
    answerApiFailure(res, error, options.logger);
  };
  router.use(answer);
  return router;
}

import type { Express } from 'express';
import { messageResource, type MessageCenter } from './messages';
import { formField, type RestAuthentication } from './rest-auth';
import { TwilioError } from './twilio-error';

/**
 * Messages as Twilio's API has them (`POST .../Messages.json` answers 201 with the message
 * resource), and the simulator's view of the phones: what each number received, and which
 * numbers cannot be reached.
 */
export function messagesApi(app: Express, options: { auth: RestAuthentication; messages: MessageCenter }): void {
  const { messages } = options;

  app.post('/2010-04-01/Accounts/:accountSid/Messages.json', (req, res) => {
    const accountSid = options.auth.account(req);
    const message = messages.send(accountSid, {
      to: formField(req, 'To'),
      from: formField(req, 'From'),
      messagingServiceSid: formField(req, 'MessagingServiceSid'),
      body: formField(req, 'Body'),
      statusCallback: formField(req, 'StatusCallback'),
    });
    res.status(201).json(messageResource(message));
  });

  app.get('/simulator/messages', (req, res) => {
    const to = typeof req.query.to === 'string' ? req.query.to : '';
    if (!to) throw new TwilioError(400, 21604, 'to is required: /simulator/messages?to=%2B15005550006');
    res.json({
      to,
      messages: messages.to(to).map((message) => ({
        sid: message.sid,
        from: message.from,
        to: message.to,
        body: message.body,
        status: message.status,
        error_code: message.errorCode,
        date_created: message.createdAt.toISOString(),
      })),
    });
  });

  // A number the simulated network cannot reach: its messages end `undelivered` with 30003.
  app.put('/simulator/numbers/:number/unreachable', (req, res) => {
    messages.setReachable(String(req.params.number), false);
    res.status(204).end();
  });
  app.delete('/simulator/numbers/:number/unreachable', (req, res) => {
    messages.setReachable(String(req.params.number), true);
    res.status(204).end();
  });
}

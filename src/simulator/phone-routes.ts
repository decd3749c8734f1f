import type { Express, Response } from 'express';
import type { CallEvent } from './call';
import type { CallControl } from './call-control';
import type { MessageCenter, SimulatedMessage } from './messages';
import { PHONE_ICON, PHONE_ICON_PATH, PHONE_PAGE_CSP, PHONE_SCRIPT, PHONE_SCRIPT_PATH, PHONE_STYLES, PHONE_STYLES_PATH, phonePage } from './phone-page';

/** How often an idle event stream sends a comment, so that nothing between closes it. */
const KEEP_ALIVE_MS = 15_000;

const strictHeaders = (res: Response) =>
  res.set({ 'Content-Security-Policy': PHONE_PAGE_CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store' });

/** The caller's phone page, its assets, and the Server-Sent Events stream it listens to. */
export function phoneRoutes(app: Express, options: { calls: CallControl; messages: MessageCenter }): void {
  app.get(PHONE_SCRIPT_PATH, (_req, res) => {
    strictHeaders(res).type('text/javascript').send(PHONE_SCRIPT);
  });
  app.get(PHONE_STYLES_PATH, (_req, res) => {
    strictHeaders(res).type('text/css').send(PHONE_STYLES);
  });
  app.get(PHONE_ICON_PATH, (_req, res) => {
    strictHeaders(res).type('image/svg+xml').send(PHONE_ICON);
  });

  app.get('/simulator/phone/:callSid', (req, res) => {
    const call = options.calls.get(String(req.params.callSid));
    strictHeaders(res);
    if (!call) {
      res.status(404).type('text/plain').send('No such call: create one with POST /simulator/calls');
      return;
    }
    res.type('text/html').send(phonePage(call));
  });

  // Everything so far, then each new call event and each message to the caller's number as it
  // happens. The page ignores what it has already shown, so a reconnect simply starts over.
  app.get('/simulator/phone/:callSid/stream', (req, res) => {
    const call = options.calls.get(String(req.params.callSid));
    if (!call) {
      res.status(404).type('text/plain').send('No such call');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Content-Type-Options': 'nosniff' });
    const send = (name: string, data: object) => res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    const sendCallEvent = (event: CallEvent) => send('call', event);
    // Only what the caller's phone shows: who sent it, the text, whether it arrived.
    const sendMessage = (message: SimulatedMessage) => send('sms', { sid: message.sid, from: message.from, body: message.body, status: message.status });
    for (const event of call.events) sendCallEvent(event);
    for (const message of options.messages.to(call.from)) sendMessage(message);
    const stopCallEvents = call.onEvent(sendCallEvent);
    const stopMessages = options.messages.onMessage((message) => {
      if (message.to === call.from) sendMessage(message);
    });
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    keepAlive.unref();
    req.on('close', () => {
      stopCallEvents();
      stopMessages();
      clearInterval(keepAlive);
    });
  });
}

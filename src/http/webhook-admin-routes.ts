import { Router, type RequestHandler } from 'express';
import { NotFound, WebhookAlreadyDelivered } from '../errors';
import { WEBHOOK_EVENT_TYPES, WEBHOOK_STATUSES, parseWebhookQuery, presentWebhookEvent, webhookQuerySchema, type WebhookOutbox } from '../store/webhook-outbox';
import type { AuthThrottle } from './auth-throttle';
import { bearerAuthentication } from './bearer-token';
import { contextOf } from './request-context';

/**
 * The webhook outbox for operators (`npm run webhooks`): list events, show one, retry one.
 * Mounted only when ADMIN_TOKEN is set. Nothing here shows a signature or a secret: rows hold none.
 */
export function webhookAdminRoutes(outbox: WebhookOutbox, adminToken: string, throttle: AuthThrottle, now: () => number = Date.now): Router {
  const router = Router();
  const named: RequestHandler = (req, res, next) => {
    contextOf(res).route = (req.route as { path?: string } | undefined)?.path ?? '/admin/webhooks';
    next();
  };
  const authenticate = bearerAuthentication(adminToken, 'admin', throttle);
  const notFound = () => new NotFound('No webhook event with that id');

  router.get('/admin/webhooks', named, authenticate, async (req, res) => {
    const params = Object.fromEntries(new URL(req.originalUrl, 'http://local').searchParams);
    res.json({ events: (await outbox.list(parseWebhookQuery(params))).map(presentWebhookEvent) });
  });
  router.get('/admin/webhooks/:id', named, authenticate, async (req, res) => {
    const event = await outbox.get(req.params.id as string);
    if (!event) throw notFound();
    // The body is the session resource, which carries no card data and no bearer link.
    res.json({ ...presentWebhookEvent(event), body: JSON.parse(event.body) as unknown });
  });
  router.post('/admin/webhooks/:id/retry', named, authenticate, async (req, res) => {
    const retried = await outbox.retry(req.params.id as string, now());
    if (retried.outcome === 'unknown') throw notFound();
    if (retried.outcome === 'delivered') throw new WebhookAlreadyDelivered('This webhook event was already delivered');
    res.json(presentWebhookEvent(retried.event));
  });
  return router;
}

/** These routes for /openapi.json (with the `adminToken` Bearer scheme, as /transactions). */
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const errorOnly = { type: 'object', required: ['error_code', 'error_message'], properties: { error_code: { type: 'string' }, error_message: { type: 'string' } } };
const time = { type: ['string', 'null'], format: 'date-time' };
const webhookEvent = {
  type: 'object',
  properties: {
    id: { type: 'string', pattern: '^evt_' },
    type: { enum: [...WEBHOOK_EVENT_TYPES] },
    session_id: { type: 'string' },
    client_id: { type: 'string' },
    status: { enum: [...WEBHOOK_STATUSES] },
    attempts: { type: 'integer' },
    next_attempt_at: time,
    last_error: { type: ['string', 'null'] },
    created_at: { type: 'string', format: 'date-time' },
    delivered_at: time,
  },
};
const eventId = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
const unauthorized = json(errorOnly, 'Missing or wrong token');

export const webhookAdminPaths = {
  '/admin/webhooks': {
    get: {
      summary: 'Webhook events, newest first',
      security: [{ adminToken: [] }],
      parameters: Object.entries(webhookQuerySchema.properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
      responses: {
        200: json({ type: 'object', properties: { events: { type: 'array', items: webhookEvent } } }, 'Matching events (limit 100 by default)'),
        400: json(errorOnly, 'Invalid query'),
        401: unauthorized,
      },
    },
  },
  '/admin/webhooks/{id}': {
    get: {
      summary: 'One webhook event, with the body it is POSTed with',
      security: [{ adminToken: [] }],
      parameters: eventId,
      responses: {
        200: json({ ...webhookEvent, properties: { ...webhookEvent.properties, body: { type: 'object' } } }, 'The event'),
        401: unauthorized,
        404: json(errorOnly, 'No such event'),
      },
    },
  },
  '/admin/webhooks/{id}/retry': {
    post: {
      summary: 'Sends a failed (or pending) event again now, with a fresh 12-hour retry window',
      security: [{ adminToken: [] }],
      parameters: eventId,
      responses: {
        200: json(webhookEvent, 'The event, pending again'),
        401: unauthorized,
        404: json(errorOnly, 'No such event'),
        409: json(errorOnly, 'Already delivered (WEBHOOK_ALREADY_DELIVERED)'),
      },
    },
  },
};

import { connectorAnswerSchema } from '../contract/connector-answer';
import { sessionPaths, sessionSecuritySchemes } from './openapi-sessions';
import { consolePaths, consoleSecuritySchemes } from './openapi-console';
import { webhookAdminPaths } from './webhook-admin-routes';
import { connectorRequestSchema } from '../contract/request-schema';
import { journalQuerySchema } from '../store/journal-query';
import { JOURNAL_STATUSES } from '../store/journal';

/**
 * The OpenAPI 3.1 document of every endpoint, built from the JSON Schemas the
 * service validates with, so the document cannot drift from the checks.
 */
const { $id: _id, ...paymentRequest } = connectorRequestSchema;

const answer = { oneOf: [connectorAnswerSchema('charge_id'), connectorAnswerSchema('token_id')] };
const errorOnly = {
  type: 'object',
  required: ['error_code', 'error_message'],
  properties: { error_code: { type: 'string' }, error_message: { type: 'string' } },
};
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });

const journalRecord = {
  type: 'object',
  properties: Object.fromEntries(
    [
      'transaction_id', 'connector', 'account', 'method', 'tender', 'amount', 'currency', 'card_brand', 'last4',
      'gateway_transaction_id', 'error_code', 'error_message', 'created_at', 'updated_at',
    ].map((name) => [name, { type: ['string', 'null'] }]),
  ),
} as const;
const records = { type: 'object', properties: { records: { type: 'array', items: { ...journalRecord, properties: { ...journalRecord.properties, status: { enum: [...JOURNAL_STATUSES] }, gateway_ms: { type: ['integer', 'null'] } } } } } };

function paymentOperation(summary: string, withName: boolean) {
  return {
    post: {
      summary,
      security: [{ basicAuth: [] }],
      parameters: withName ? [{ name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'A mapping file name, e.g. payconex' }] : [],
      requestBody: {
        required: true,
        description: 'Parsed as JSON whatever the Content-Type says (Twilio has sent none).',
        content: { 'application/json': { schema: paymentRequest }, 'text/plain': { schema: paymentRequest } },
      },
      responses: {
        200: json(answer, 'Approved, declined, or refused for a reason Twilio can cause (error_code set)'),
        400: json(answer, 'The body is not a JSON object, too complex, or has a forbidden key'),
        401: json(answer, 'Missing or invalid credentials'),
        404: json(answer, 'Unknown connector'),
        413: json(answer, 'Body too large'),
        415: json(answer, 'Unsupported charset or content encoding'),
        429: json(answer, 'Too many failed authentications'),
      },
    },
  };
}

export interface OpenApiOptions {
  /** GET /transactions is served (ADMIN_TOKEN is set). Off, it is left out of the document. */
  transactionsApi: boolean;
  /** The session API is served (TWILIO_ACCOUNT_SID is set). */
  sessionsApi?: boolean;
}

/** The reconciliation API, and the Bearer scheme only it uses. */
const transactionsPaths = {
  '/transactions': {
    get: {
      summary: 'Journal records, newest first',
      security: [{ adminToken: [] }],
      parameters: Object.entries(journalQuerySchema.properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
      responses: { 200: json(records, 'Matching records'), 400: json(errorOnly, 'Invalid query'), 401: json(errorOnly, 'Missing or wrong token') },
    },
  },
  '/transactions/{transaction_id}': {
    get: {
      summary: 'The journal records of one Twilio transaction_id',
      security: [{ adminToken: [] }],
      parameters: [{ name: 'transaction_id', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { 200: json(records, 'Its records'), 401: json(errorOnly, 'Missing or wrong token'), 404: json(errorOnly, 'No such record') },
    },
  },
};
const adminTokenScheme = { adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } };

/**
 * An API that is off is not described: the public document does not tell a scanner that a
 * reconciliation API exists, or how it is authenticated, on a service that does not serve it.
 */
export function openApiDocument({ transactionsApi, sessionsApi = false }: OpenApiOptions) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Twilio Pay Connector Bridge',
      version: '0.1.0',
      description: 'A Twilio Generic Pay Connector endpoint that charges and tokenizes through declarative gateway mappings.',
    },
    components: {
      securitySchemes: {
        basicAuth: { type: 'http', scheme: 'basic', description: 'The Twilio connector USERNAME and PASSWORD' },
        ...(transactionsApi ? adminTokenScheme : {}),
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when set' },
        ...(sessionsApi ? sessionSecuritySchemes : {}),
        ...(sessionsApi ? consoleSecuritySchemes : {}),
      },
    },
    paths: {
      '/': paymentOperation('Charge or tokenize with the default connector', false),
      '/charge': paymentOperation('Legacy path: charge with the default connector', false),
      '/tokenize': paymentOperation('Legacy path: tokenize with the default connector', false),
      '/connectors/{name}': paymentOperation('Charge or tokenize with a named connector', true),
      '/connectors/{name}/charge': paymentOperation('Legacy path: charge with a named connector', true),
      '/connectors/{name}/tokenize': paymentOperation('Legacy path: tokenize with a named connector', true),
      ...(transactionsApi ? transactionsPaths : {}),
      ...(sessionsApi ? sessionPaths : {}),
      ...(sessionsApi ? consolePaths : {}),
      ...(sessionsApi && transactionsApi ? webhookAdminPaths : {}),
      '/healthz': { get: { summary: 'Liveness: the process answers', responses: { 200: json({ type: 'object', properties: { status: { const: 'ok' } } }, 'Alive') } } },
      '/readyz': {
        get: {
          summary: 'Readiness: mappings loaded, journal reachable, sandbox and GATEWAY_URL_<NAME> gateways reachable (sandbox mode)',
          responses: {
            200: json({ type: 'object', properties: { status: { const: 'ready' }, checks: { type: 'object' } } }, 'Ready'),
            503: json({ type: 'object', properties: { status: { const: 'not ready' }, checks: { type: 'object' } } }, 'A check failed'),
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: [{}, { metricsToken: [] }],
          responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } }, 401: json(errorOnly, 'METRICS_TOKEN is set and was not sent') },
        },
      },
      '/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    },
  };
}

import path from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { SQLITE_FILE } from '../../src/store/sqlite-journal';
import type { SessionStack } from './session-stack';
import { ACCESS_KEY, ACCOUNT_ID } from './test-data';

/** The session stack's settings for digital sessions: the sandbox's credentials configured, texts from a number. */
export const DIGITAL_ENV: Record<string, string> = {
  GATEWAY_CREDENTIALS_PAYCONEX_USERNAME: ACCOUNT_ID,
  GATEWAY_CREDENTIALS_PAYCONEX_PASSWORD: ACCESS_KEY,
  TWILIO_SMS_FROM: '+15005550001',
  MERCHANT_NAME: 'Acme Water',
  // Every page, asset-less request and heartbeat of a whole test file comes from 127.0.0.1.
  PAY_PAGE_REQUESTS_PER_MINUTE: '10000',
};

export const CUSTOMER_PHONE = '+15005550006';
/** The sandbox declines this card whatever the amount. */
export const DECLINED_CARD = '4000000000000002';

export interface CreatedDigital {
  id: string;
  state: string;
  link_url: string;
  attempts: { made: number; allowed: number };
}

/** POST /v1/sessions with type digital (no text unless asked): the session and its link_url. */
export async function createDigital(stack: SessionStack, token: string, body: Record<string, unknown> = {}): Promise<CreatedDigital> {
  const answer = await request(stack.service.url)
    .post('/v1/sessions')
    .set('Authorization', `Bearer ${token}`)
    .send({ type: 'digital', amount: '25.00', reference: 'inv-2041', customer: { phone: CUSTOMER_PHONE }, send_sms: false, ...body });
  if (answer.status !== 201) throw new Error(`digital session refused: ${answer.status} ${answer.text}`);
  return answer.body as CreatedDigital;
}

export async function getSession(stack: SessionStack, token: string, id: string): Promise<Record<string, unknown> & { state: string }> {
  return (await request(stack.service.url).get(`/v1/sessions/${id}`).set('Authorization', `Bearer ${token}`)).body;
}

export async function cancelSession(stack: SessionStack, token: string, id: string): Promise<void> {
  const answer = await request(stack.service.url).post(`/v1/sessions/${id}/cancel`).set('Authorization', `Bearer ${token}`);
  if (answer.status !== 200) throw new Error(`cancel refused: ${answer.status} ${answer.text}`);
}

/** Moves the session's expiry into the past in the service's SQLite file, as if its time had run out (the minimum expires_in is 300 s). */
export function expireNow(stack: SessionStack, id: string): void {
  const db = new Database(path.join(path.dirname(stack.clientsFile), SQLITE_FILE));
  try {
    const past = Date.now() - 1000;
    db.prepare("UPDATE sessions SET expires_at = ?, resource = json_set(resource, '$.expires_at', ?) WHERE id = ?").run(past, new Date(past).toISOString(), id);
  } finally {
    db.close();
  }
}

/** The journal's records of one transaction id (a digital attempt's is `<session id>:<attempt>`). */
export async function journalRecords(stack: SessionStack, adminToken: string, transactionId: string): Promise<Array<{ status: string; last4?: string }>> {
  const answer = await request(stack.service.url).get(`/transactions/${encodeURIComponent(transactionId)}`).set('Authorization', `Bearer ${adminToken}`);
  return (answer.body.records ?? []) as Array<{ status: string; last4?: string }>;
}

/** A browser without a script: loads the page (keeping its cookie) and posts the form as the browser would. */
export class PageVisitor {
  readonly agent: ReturnType<typeof request.agent>;
  readonly path: string;
  csrf = '';
  attempt = '';

  constructor(serviceUrl: string, linkUrl: string) {
    this.agent = request.agent(serviceUrl);
    this.path = new URL(linkUrl).pathname;
  }

  async open(pathAndQuery = this.path): Promise<request.Response> {
    const page = await this.agent.get(pathAndQuery);
    this.csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? this.csrf;
    this.attempt = /name="attempt" value="(\d+)"/.exec(page.text)?.[1] ?? this.attempt;
    return page;
  }

  async pay(fields: Record<string, string>): Promise<request.Response> {
    return this.agent.post(this.path).type('form').send({ _csrf: this.csrf, attempt: this.attempt, ...fields }).redirects(0);
  }

  /** The page a POST's 303 sends the browser to. */
  async follow(answer: request.Response): Promise<request.Response> {
    expect(answer.status).toBe(303);
    return this.agent.get(answer.headers.location!);
  }
}

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { eventually } from '../helpers/api-clients';
import { AMEX } from '../helpers/flows';
import { expectNoSecrets } from '../helpers/leaks';
import { openEventStream, startSessionStack, type SessionStack } from '../helpers/session-stack';
import { BANK_ACCOUNT, CVV, ROUTING, VISA } from '../helpers/test-data';

/**
 * The payment sessions' flows at LOG_LEVEL=silly: everything the service wrote (log lines), every
 * answer, event and webhook a client got, and every row the sessions left (sessions, history, webhooks)
 * are searched for the test card, CVV, bank and routing numbers and keys, in every encoding.
 */
test('when card and bank sessions run to their end, then no log line, answer, event, webhook or stored row holds a secret', async () => {
  const stack: SessionStack = await startSessionStack({ LOG_LEVEL: 'silly' });
  const output: string[] = [];
  try {
    const token = await stack.token();
    const api = (method: 'get' | 'post', url: string, body?: object) => {
      const call = stack.api(token)[method](url).set('Authorization', `Bearer ${token}`);
      return (body ? call.send(body) : call).then((answer) => {
        output.push(JSON.stringify(answer.headers), answer.text);
        return answer;
      });
    };
    const flows: Array<{ body: object; fields: Array<[string, string]> }> = [
      { body: { amount: '10.00' }, fields: [['card_number', `${VISA.slice(0, -1)}2`], ['card_number', VISA], ['expiry', '1230'], ['security_code', '123'], ['postal_code', '94111']] },
      { body: { amount: '1.01' }, fields: [['card_number', AMEX], ['expiry', '1230'], ['security_code', CVV], ['postal_code', '94111']] },
      { body: {}, fields: [['card_number', AMEX], ['expiry', '1230'], ['security_code', CVV], ['postal_code', '94111']] },
      { body: { amount: '25.00', payment_method: 'ach' }, fields: [['routing_number', ROUTING], ['account_number', BANK_ACCOUNT]] },
    ];
    for (const flow of flows) {
      const callSid = `CA${randomBytes(16).toString('hex')}`;
      const created = await api('post', '/v1/sessions', { type: 'agent', call_sid: callSid, ...flow.body });
      const id = created.body.id as string;
      const stream = await openEventStream(`${stack.service.url}/v1/sessions/${id}/events`, token);
      for (const [field, digits] of flow.fields) {
        await api('post', `/v1/sessions/${id}/capture`, { field });
        await stack.keypad(callSid, digits.slice(0, 6));
        await stack.keypad(callSid, `${digits.slice(6)}#`);
      }
      await api('post', `/v1/sessions/${id}/complete`);
      await stream.until((event) => ['succeeded', 'failed'].includes(event.data.state as string), 'the end');
      await api('get', `/v1/sessions/${id}`);
      await api('get', `/v1/sessions/${id}/history`);
      output.push(JSON.stringify(stream.events));
      stream.close();
    }
    await api('get', '/v1/sessions?limit=100');
    await eventually(() => stack.receiver.received.length >= flows.length, 'the webhooks');
    output.push(...stack.receiver.received.map((hook) => `${JSON.stringify(hook.headers)}\n${hook.body}`));
  } finally {
    await stack.stop();
  }
  const db = new Database(path.join(stack.service.config.dataDir, 'journal.sqlite'), { readonly: true });
  const rows = ['sessions', 'session_history', 'webhook_outbox', 'transactions'].map((table) => JSON.stringify(db.prepare(`SELECT * FROM ${table}`).all()));
  db.close();
  expect(stack.service.logs.lines.length).toBeGreaterThan(20);
  expect(output.join('\n')).toContain('xxxx xxxx xxxx 1111');
  expectNoSecrets([stack.service.logs.text, output.join('\n'), rows.join('\n')].join('\n'));
}, 60_000);

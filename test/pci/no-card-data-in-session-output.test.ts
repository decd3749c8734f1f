import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { eventually } from '../helpers/api-clients';
import { AMEX } from '../helpers/flows';
import { expectNoSecrets } from '../helpers/leaks';
import request from 'supertest';
import twilio from 'twilio';
import { ACCOUNT_SID, AUTH_TOKEN, openEventStream, startSessionStack, type SessionStack } from '../helpers/session-stack';
import { SimulatorTwilioApp } from '../helpers/simulator-twilio-app';
import { ACCESS_KEY, ACCOUNT_ID, BANK_ACCOUNT, CVV, ROUTING, VISA } from '../helpers/test-data';

/**
 * The payment sessions' flows at LOG_LEVEL=silly: everything the service wrote (log lines), every
 * answer, event and webhook a client got, and every row the sessions left (sessions, history, webhooks)
 * are searched for the test card, CVV, bank and routing numbers and keys, in every encoding.
 */
test('when card and bank sessions, agent-assisted, IVR and digital, run to their end, then no log line, answer, event, webhook, text message, page or stored row holds a secret', async () => {
  const stack: SessionStack = await startSessionStack({
    LOG_LEVEL: 'silly',
    GATEWAY_CREDENTIALS_PAYCONEX_USERNAME: ACCOUNT_ID,
    GATEWAY_CREDENTIALS_PAYCONEX_PASSWORD: ACCESS_KEY,
    TWILIO_SMS_FROM: '+15005550001',
  });
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

    // IVR self-service: the caller types into the hosted <Pay>, the call comes back to the IVR.
    const ivr = await new SimulatorTwilioApp(AUTH_TOKEN).start();
    ivr.answer('/return', () => new twilio.twiml.VoiceResponse().say('Back in the menu.'));
    try {
      const ivrFlows: Array<{ body: object; keys: string[] }> = [
        { body: { amount: '10.00' }, keys: [`${VISA.slice(0, -1)}2#`, `${VISA}#`, '1230#', `${CVV}#`, '94111#'] },
        { body: { amount: '1.01' }, keys: [`${AMEX}#`, '1230#', '1234#', '94111#'] },
        { body: { payment_method: 'ach' }, keys: [`${ROUTING}#`, `${BANK_ACCOUNT}#`] },
      ];
      for (const flow of ivrFlows) {
        const call = await request(stack.simulator.url).post('/simulator/calls').type('form').send({ AccountSid: ACCOUNT_SID });
        const callSid = call.body.CallSid as string;
        const created = await api('post', '/v1/sessions', { type: 'ivr', call_sid: callSid, return_url: `${ivr.url}/return`, max_attempts: 2, ...flow.body });
        const id = created.body.id as string;
        const stream = await openEventStream(`${stack.service.url}/v1/sessions/${id}/events`, token);
        await request(stack.simulator.url).post(`/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${callSid}.json`).auth(ACCOUNT_SID, AUTH_TOKEN).type('form').send({ Url: created.body.twiml_url }).expect(200);
        await eventually(async () => JSON.stringify((await request(stack.simulator.url).get(`/simulator/calls/${callSid}/events`)).body).includes('pay-started'), 'the <Pay>');
        for (const keys of flow.keys) await request(stack.simulator.url).post(`/simulator/calls/${callSid}/dtmf`).type('form').send({ Digits: keys }).expect(204);
        await ivr.waitFor((entry) => entry.path === '/return' && entry.url.includes(id));
        await stream.until((event) => ['succeeded', 'failed'].includes(event.data.state as string), 'the end');
        output.push(JSON.stringify(stream.events));
        stream.close();
        await api('get', `/v1/sessions/${id}`);
        await api('get', `/v1/sessions/${id}/history`);
      }
      output.push(...ivr.requests.map((entry) => JSON.stringify(entry)));
    } finally {
      await ivr.stop();
    }

    // Digital: the link is texted, the customer types on the payment page (a declined card first,
    // then another), the page beats with counts; every page after the form, and the texts, are searched.
    const digitalFlows: Array<{ body: object; tries: Array<Record<string, string>> }> = [
      { body: { amount: '10.00' }, tries: [{ card_number: '4000000000000002', expiry: '12/30', security_code: '123', postal_code: '94111' }, { card_number: AMEX, expiry: '12/30', security_code: CVV, postal_code: '94111' }] },
      { body: {}, tries: [{ card_number: VISA, expiry: '12/30', security_code: '123', postal_code: '94111' }] },
      { body: { amount: '25.00', payment_method: 'ach' }, tries: [{ routing_number: ROUTING, account_number: BANK_ACCOUNT, account_type: 'savings' }] },
    ];
    for (const flow of digitalFlows) {
      const created = await api('post', '/v1/sessions', { type: 'digital', customer: { phone: '+15005550006' }, ...flow.body });
      const id = created.body.id as string;
      const stream = await openEventStream(`${stack.service.url}/v1/sessions/${id}/events`, token);
      const page = new URL(created.body.link_url as string).pathname;
      const browser = request.agent(stack.service.url);
      for (const fields of flow.tries) {
        const form = await browser.get(page);
        const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
        const attempt = /name="attempt" value="(\d+)"/.exec(form.text)![1]!;
        const typed = Object.fromEntries(Object.entries(fields).map(([field, value]) => [field, value.length]));
        await browser.post(`${page}/presence`).set('X-CSRF-Token', csrf).send({ typed }).expect(204);
        const posted = await browser.post(page).type('form').send({ _csrf: csrf, attempt, ...fields }).redirects(0);
        const shown = await browser.get(posted.headers.location!);
        output.push(JSON.stringify(posted.headers), posted.text, shown.text);
      }
      await stream.until((event) => ['succeeded', 'failed'].includes(event.data.state as string), 'the end');
      output.push(JSON.stringify(stream.events));
      stream.close();
      await api('get', `/v1/sessions/${id}`);
      await api('get', `/v1/sessions/${id}/history`);
    }
    const texts = await request(stack.simulator.url).get('/simulator/messages').query({ to: '+15005550006' });
    expect(texts.body.messages.length).toBe(digitalFlows.length);
    output.push(texts.text);

    await api('get', '/v1/sessions?limit=100');
    await eventually(() => stack.receiver.received.length >= flows.length + 3 + digitalFlows.length, 'the webhooks');
    output.push(...stack.receiver.received.map((hook) => `${JSON.stringify(hook.headers)}\n${hook.body}`));
  } finally {
    await stack.stop();
  }
  const db = new Database(path.join(stack.service.config.dataDir, 'journal.sqlite'), { readonly: true });
  const rows = ['sessions', 'session_history', 'webhook_outbox', 'transactions', 'session_links'].map((table) => JSON.stringify(db.prepare(`SELECT * FROM ${table}`).all()));
  db.close();
  expect(stack.service.logs.lines.length).toBeGreaterThan(20);
  expect(output.join('\n')).toContain('xxxx xxxx xxxx 1111');
  expect(output.join('\n')).toContain('American Express ending');
  expectNoSecrets([stack.service.logs.text, output.join('\n'), rows.join('\n')].join('\n'));
}, 90_000);

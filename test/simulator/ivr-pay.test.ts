import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { startSimulator, type Simulator } from '../../src/simulator/simulator-server';
import { CallbackReceiver } from '../helpers/callback-receiver';
import { startService, type TestService } from '../helpers/service';
import { ACCESS_KEY, ACCOUNT_ID } from '../helpers/test-data';
import { expectNoTypedValues } from './callback-secrets';

/** IVR self-service: a call reaches <Pay>; the caller answers its prompts on the keypad. */
const CARD = '4111111111111111';
const BAD_CARDS = ['4111111111111112', '4111111111111113'];
const CVV = '837';
const ROUTING = '244183602';
const BANK_ACCOUNT = '987654321';
/** Every clear value typed on the keypad in this file; no status callback or action body may hold one. */
const TYPED = { cards: [CARD, ...BAD_CARDS, '5555555555554444'], cvvs: [CVV], bankAccounts: [BANK_ACCOUNT], routingNumbers: [ROUTING] };

/** What the call said, in order, from its events (the simulator also records fetches, hang-ups and more). */
const said = (events: Array<{ type: string; text?: string }>) => events.filter((event) => event.type === 'say').map((event) => event.text);

let calls = 0;
const callSid = () => `CA${(0xf000 + ++calls).toString(16).padStart(32, '0')}`;

describe('IVR <Pay> through the simulator and the bridge', () => {
  let service: TestService;
  let simulator: Simulator;
  let fakeConnector: http.Server;
  const connectorRequests: Record<string, unknown>[] = [];
  const receiver = new CallbackReceiver();

  beforeAll(async () => {
    await receiver.start();
    service = await startService();
    // A connector that answers with parameters, to see PayConnector_* reach the action.
    fakeConnector = http.createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += String(chunk);
      connectorRequests.push(JSON.parse(body) as Record<string, unknown>);
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ charge_id: 'ch_1', error_code: null, error_message: null, parameters: { confirmation_number: 'C-77' } }));
    });
    await new Promise<void>((resolve) => fakeConnector.listen(0, '127.0.0.1', resolve));
    simulator = await startSimulator({
      authToken: 'token',
      connectors: {
        Default: { url: `${service.url}/`, username: ACCOUNT_ID, password: ACCESS_KEY },
        Fake: { url: `http://127.0.0.1:${(fakeConnector.address() as AddressInfo).port}/`, username: 'u', password: 'p' },
      },
    });
  });
  afterAll(async () => {
    await simulator.stop();
    await service.stop();
    await new Promise((resolve) => fakeConnector.close(resolve));
    await receiver.stop();
  });

  const pay = (call: string, attributes: Record<string, string>) =>
    request(simulator.url).post(`/simulator/calls/${call}/pay`).type('form').send({ statusCallback: `${receiver.url}/status`, timeout: '60', ...attributes });
  const press = (call: string, digits: string) => request(simulator.url).post(`/simulator/calls/${call}/dtmf`).type('form').send({ Digits: digits });
  const actionOf = async (action: string) => {
    const deadline = Date.now() + 10_000;
    while (receiver.at(action).length === 0) {
      if (Date.now() > deadline) throw new Error(`no action request at ${action}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return receiver.at(action)[0]!;
  };

  test('when the caller answers every prompt, then the bridge charges and the action gets success with masked fields', async () => {
    const call = callSid();
    const started = await pay(call, { action: `${receiver.url}/paid`, chargeAmount: '10.00', maxAttempts: '2' });
    expect(said(started.body.events)).toEqual(['Please enter your card number, followed by the pound key.']);
    await press(call, `${CARD}#`);
    await press(call, '1230#');
    await press(call, `${CVV}#`);
    await press(call, '94111#');
    const action = await actionOf('/paid');
    expect(action).toMatchObject({
      Result: 'success',
      PaymentConfirmationCode: expect.stringMatching(/^\d{12}$/),
      PaymentCardNumber: 'xxxx xxxx xxxx 1111',
      PaymentCardType: 'visa',
      ExpirationDate: '1230',
      SecurityCode: 'xxx',
      PaymentCardPostalCode: '94111',
      CallSid: call,
    });
    const statuses = receiver.at('/status').filter((body) => body.CallSid === call);
    expect(statuses.map((body) => body.For)).toEqual(['payment-card-number', 'expiration-date', 'security-code', 'postal-code', 'payment-processing']);
    const events = said((await request(simulator.url).get(`/simulator/calls/${call}/events`)).body.events);
    expect(events).toContain('Please enter your security code, followed by the pound key.');
  });

  test('when the caller fails a field maxAttempts times, then the action gets too-many-failed-attempts', async () => {
    const call = callSid();
    await pay(call, { action: `${receiver.url}/failed`, chargeAmount: '10.00', maxAttempts: '2' });
    await press(call, `${BAD_CARDS[0]}#`);
    await press(call, `${BAD_CARDS[1]}#`);
    const action = await actionOf('/failed');
    expect(action).toMatchObject({ Result: 'too-many-failed-attempts' });
    const errors = receiver.at('/status').filter((body) => body.CallSid === call);
    expect(errors.map((body) => [body.For, body.Attempt, body.ErrorType])).toEqual([
      ['payment-card-number', '1', 'invalid-card-number'],
      ['payment-card-number', '2', 'invalid-card-number'],
    ]);
  });

  test('when the caller presses *, then the action gets caller-interrupted-with-star and nothing is charged', async () => {
    const call = callSid();
    const before = service.logs.entries().filter((entry) => entry.message === 'payment').length;
    await pay(call, { action: `${receiver.url}/star`, chargeAmount: '10.00' });
    await press(call, `${CARD}#`);
    await press(call, '12*');
    expect(await actionOf('/star')).toMatchObject({ Result: 'caller-interrupted-with-star' });
    await simulator.settled();
    expect(service.logs.entries().filter((entry) => entry.message === 'payment').length).toBe(before);
  });

  test('when the connector answers parameters, then they reach the action as PayConnector_*', async () => {
    const call = callSid();
    await pay(call, { action: `${receiver.url}/params`, chargeAmount: '5.00', paymentConnector: 'Fake', securityCode: 'false', postalCode: '94105' });
    await press(call, `${CARD}#`);
    await press(call, '1230#');
    expect(await actionOf('/params')).toMatchObject({ Result: 'success', PaymentConfirmationCode: 'ch_1', PayConnector_confirmation_number: 'C-77', PaymentCardPostalCode: '94105' });
  });

  test('when the IVR app posts its <Pay> TwiML, then its attributes, <Parameter>s and <Prompt>s drive the call', async () => {
    const call = callSid();
    const twiml = `<?xml version="1.0" encoding="UTF-8"?>
      <Response>
        <Say>Welcome to the payment line.</Say>
        <Pay paymentConnector="Fake" chargeAmount="7.50" action="${receiver.url}/twiml" statusCallback="${receiver.url}/status"
             timeout="60" maxAttempts="2" securityCode="false" postalCode="false" description="Order &amp; co">
          <Parameter name="first_name" value="Ada"/>
          <Parameter name="order" value="A-17"/>
          <Prompt for="payment-card-number"><Say>Your card number, please.</Say></Prompt>
          <Prompt for="expiration-date" errorType="invalid-date"><Say voice="alice">That date has passed.</Say><Say>Try again.</Say></Prompt>
        </Pay>
      </Response>`;
    const started = await request(simulator.url).post(`/simulator/calls/${call}/pay`).type('text/xml').send(twiml);
    expect(started.status).toBe(201);
    expect(said(started.body.events)).toEqual(['Your card number, please.']);
    await press(call, `${CARD}#`);
    await press(call, '0120#');
    await press(call, '1230#');
    expect(await actionOf('/twiml')).toMatchObject({ Result: 'success', PaymentConfirmationCode: 'ch_1', ExpirationDate: '1230' });
    const events = said((await request(simulator.url).get(`/simulator/calls/${call}/events`)).body.events);
    expect(events.slice(0, 3)).toEqual([
      'Your card number, please.',
      'Please enter your expiration date, two digits for the month and two for the year.',
      'That date has passed. Try again.',
    ]);
    expect(connectorRequests.at(-1)).toMatchObject({ amount: '7.50', description: 'Order & co', parameters: { first_name: 'Ada', order: 'A-17' } });
  });

  test.each([
    ['not well-formed', '<Response><Pay action="x"></Response>'],
    ['without a <Pay> verb', '<Response><Say>Hello</Say></Response>'],
    ['with a DOCTYPE', '<!DOCTYPE r [<!ENTITY a "aaaa">]><Response><Pay action="&a;"/></Response>'],
  ])('when the TwiML is %s, then the answer is Twilio\'s 12100 document parse failure and no call starts', async (_case, twiml) => {
    const call = callSid();
    const answer = await request(simulator.url).post(`/simulator/calls/${call}/pay`).type('application/xml').send(twiml);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 12100, message: expect.stringMatching(/^Document parse failure: /) });
    expect((await request(simulator.url).get(`/simulator/calls/${call}/events`)).body.events).toEqual([]);
  });

  test('when a bank account is entered, then the bridge charges it and the action shows the account masked', async () => {
    const call = callSid();
    await pay(call, { action: `${receiver.url}/ach`, paymentMethod: 'ach-debit', bankAccountType: 'consumer-savings', chargeAmount: '25.00' });
    await press(call, `${ROUTING}#`);
    await press(call, `${BANK_ACCOUNT}#`);
    expect(await actionOf('/ach')).toMatchObject({
      Result: 'success',
      PaymentConfirmationCode: expect.stringMatching(/^\d{12}$/),
      BankAccountNumber: '*******21',
      BankAccountType: 'consumer-savings',
    });
  });

  test('when timeout is not a number, then the default 5 s applies instead of an instant input-timeout', async () => {
    const call = callSid();
    await pay(call, { action: `${receiver.url}/slow-caller`, chargeAmount: '10.00', timeout: 'soon' });
    await press(call, CARD.slice(0, 4));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(receiver.at('/status').filter((body) => body.CallSid === call)).toEqual([]);
    await press(call, `${CARD.slice(4)}#`);
    await request(simulator.url).post(`/simulator/calls/${call}/hangup`);
    expect(await actionOf('/slow-caller')).toMatchObject({ Result: 'caller-hung-up', PaymentCardNumber: 'xxxx xxxx xxxx 1111' });
    expect(receiver.at('/status').filter((body) => body.CallSid === call).map((body) => [body.For, body.ErrorType])).toEqual([['payment-card-number', undefined]]);
  });

  test('when maxAttempts is not a number, then one failed attempt ends the <Pay>', async () => {
    const call = callSid();
    await pay(call, { action: `${receiver.url}/one-try`, chargeAmount: '10.00', maxAttempts: 'many' });
    await press(call, `${BAD_CARDS[0]}#`);
    expect(await actionOf('/one-try')).toMatchObject({ Result: 'too-many-failed-attempts', PaymentError: 'invalid-card-number' });
  });

  test('when a <Prompt requireMatchingInputs> asks for the card twice and the entries differ, then input-matching-failed and the field starts over; matched, the charge goes through', async () => {
    const call = callSid();
    const twiml = `<Response><Pay paymentConnector="Fake" chargeAmount="6.00" action="${receiver.url}/matched" statusCallback="${receiver.url}/status"
        timeout="60" maxAttempts="2" securityCode="false" postalCode="false">
        <Prompt for="payment-card-number" requireMatchingInputs="true"><Say>Once more, your card number.</Say></Prompt>
        <Prompt for="payment-card-number" errorType="input-matching-failed"><Say>Those did not match. Your card number, please.</Say></Prompt>
      </Pay></Response>`;
    await request(simulator.url).post(`/simulator/calls/${call}/pay`).type('text/xml').send(twiml).expect(201);
    await press(call, `${CARD}#`);
    await press(call, '5555555555554444#');
    await press(call, `${CARD}#`);
    await press(call, `${CARD}#`);
    await press(call, '1230#');
    expect(await actionOf('/matched')).toMatchObject({ Result: 'success', PaymentConfirmationCode: 'ch_1', PaymentCardNumber: 'xxxx xxxx xxxx 1111' });
    expect(receiver.at('/status').filter((body) => body.CallSid === call).map((body) => [body.For, body.Attempt, body.ErrorType])).toEqual([
      ['payment-card-number', '1', 'input-matching-failed'],
      ['payment-card-number', '2', undefined],
      ['expiration-date', '1', undefined],
      ['payment-processing', '1', undefined],
    ]);
    const events = said((await request(simulator.url).get(`/simulator/calls/${call}/events`)).body.events);
    expect(events.slice(0, 5)).toEqual([
      'Please enter your card number, followed by the pound key.',
      'Once more, your card number.',
      'Those did not match. Your card number, please.',
      'Once more, your card number.',
      'Please enter your expiration date, two digits for the month and two for the year.',
    ]);
  });

  test('when a <Pay> names a connector that is not installed, then 64004 answers and no call starts paying', async () => {
    const call = callSid();
    const answer = await pay(call, { action: `${receiver.url}/nowhere`, paymentConnector: 'Missing', chargeAmount: '1.00' });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 64004 });
    expect((await request(simulator.url).post(`/simulator/calls/${call}/dtmf`).type('form').send({ Digits: '1' })).status).toBe(409);
  });

  test('when every request the simulator posted is read raw, then none holds a full card, CVV, bank account or routing number', async () => {
    await simulator.settled();
    expect(receiver.received.length).toBeGreaterThan(8);
    expectNoTypedValues([receiver], TYPED);
  });
});

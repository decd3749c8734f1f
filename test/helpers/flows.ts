import request from 'supertest';
import { ACCESS_KEY, ACCOUNT_ID, BANK_ACCOUNT, CVV, ROUTING, VISA, achCharge, basicAuth, cardCharge, cardTokenize } from './test-data';

export const AMEX = '378282246310005';

/** Every flow the service has, each with card data in the request. Answers are part of the output. */
export async function runEveryFlow(url: string, answers: string[]): Promise<void> {
  const send = async (path: string, body: string, auth = basicAuth(), contentType = 'application/json') => {
    const response = await request(url).post(path).set('Authorization', auth).set('Content-Type', contentType).send(body);
    answers.push(JSON.stringify(response.headers), response.text);
  };
  const json = (body: Record<string, unknown>) => JSON.stringify(body);
  const amexCharge = (extra: Record<string, unknown> = {}) => cardCharge({ cardnumber: AMEX, cvv: CVV, ...extra });

  await send('/', json(amexCharge()));
  await send('/', json(cardCharge()));
  await send('/', json(cardTokenize()));
  await send('/tokenize', json(cardTokenize({ method: undefined })));
  await send('/', json(achCharge()));
  await send('/', json(achCharge({ method: 'tokenize', amount: undefined, currency_code: undefined })));
  for (const amount of ['1.01', '2.02', '3.03', '4.04', '5.05']) await send('/', json(amexCharge({ amount })));
  await send('/', json(cardCharge({ cardnumber: '4111111111111112' })));
  await send('/', json(amexCharge({ expiry_year: '19' })));
  await send('/', json(achCharge({ routingnumber: '123456789' })));
  // Invalid input that carries card data next to the mistake.
  await send('/', json(amexCharge({ cvv: `${CVV}0` })));
  await send('/', json(amexCharge({ cardnumber: `${AMEX}x` })));
  await send('/', json(achCharge({ bankaccountnumber: `${BANK_ACCOUNT}abc`, routingnumber: `${ROUTING}0` })));
  await send('/', json(amexCharge({ parameters: { [VISA]: { nested: VISA } } })));
  await send('/', json(amexCharge({ amount: '-1' })));
  await send('/', `{"method":"charge","cardnumber":"${VISA}","cvv":"${CVV}",`);
  await send('/', `{"cardnumber":${VISA}x}`);
  await send('/', json(amexCharge({ description: 'x'.repeat(20000) })));
  await send(`/connectors/${VISA}`, json(amexCharge()));
  await send(`/${VISA}`, json(amexCharge()));
  await send('/', json(amexCharge()), 'application/json; charset=bogus');
  // Bad credentials, one shaped wrong and one the gateway refuses, both with the real key.
  await send('/', json(amexCharge()), basicAuth('not-an-account', ACCESS_KEY));
  await send('/', json(amexCharge()), basicAuth('12345678901', ACCESS_KEY));
  await send('/', json(amexCharge()), `Basic ${Buffer.from(`${ACCOUNT_ID}${ACCESS_KEY}`).toString('base64')}`);
}


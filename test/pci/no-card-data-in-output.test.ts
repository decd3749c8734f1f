import { spawn } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import { REPO_ROOT, startService, temporaryDataDir, type TestService } from '../helpers/service';
import { ACCESS_KEY, ACCOUNT_ID, BANK_ACCOUNT, CVV, ROUTING, VISA, achCharge, basicAuth, cardCharge, cardTokenize } from '../helpers/test-data';

/**
 * assert_scrubbed, the way ActiveMerchant does it: run every flow at the most
 * verbose log level, capture everything the service wrote, and search it for the
 * test card, CVV, bank, routing and key values in every encoding they could take.
 */
const AMEX = '378282246310005';
const secrets: Record<string, string> = { card: VISA, amex: AMEX, bank: BANK_ACCOUNT, routing: ROUTING, key: ACCESS_KEY };

function forbiddenForms(): Array<[string, RegExp]> {
  const forms: Array<[string, RegExp]> = [];
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  for (const [name, value] of Object.entries(secrets)) {
    forms.push([`${name} in clear`, new RegExp(escape(value))]);
    forms.push([`${name} in base64`, new RegExp(escape(Buffer.from(value).toString('base64').replace(/=+$/, '')))]);
    forms.push([`${name} URL-encoded`, new RegExp(escape(encodeURIComponent(value)))]);
  }
  // A CVV is short: look for it as a number of its own, not inside a longer one.
  forms.push(['cvv', new RegExp(`(?<![0-9])${CVV}(?![0-9])`)]);
  forms.push(['Authorization header', new RegExp(escape(basicAuth().slice('Basic '.length)))]);
  forms.push(['Authorization header (declined account)', new RegExp(escape(basicAuth('12345678901', ACCESS_KEY).slice('Basic '.length)))]);
  return forms;
}

function expectNoSecrets(output: string): void {
  expect(output.length).toBeGreaterThan(0);
  const leaks = forbiddenForms().filter(([, pattern]) => pattern.test(output)).map(([name]) => name);
  expect(leaks).toEqual([]);
}

/** Every flow the service has, each with card data in the request. Answers are part of the output. */
async function runEveryFlow(url: string, answers: string[]): Promise<void> {
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

describe('no card data in any output', () => {
  test('when every flow runs in-process at LOG_LEVEL=silly, then no log line, console write or answer holds a secret', async () => {
    const captured: string[] = [];
    const originalStdout = process.stdout.write.bind(process.stdout);
    const originalStderr = process.stderr.write.bind(process.stderr);
    const capture = (original: typeof process.stdout.write) =>
      ((chunk: unknown, ...rest: unknown[]) => {
        captured.push(String(chunk));
        return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof process.stdout.write;
    process.stdout.write = capture(originalStdout);
    process.stderr.write = capture(originalStderr);

    let service: TestService | undefined;
    const answers: string[] = [];
    try {
      service = await startService({ LOG_LEVEL: 'silly', GATEWAY_TIMEOUT_MS: '300' });
      await runEveryFlow(service.url, answers);
    } finally {
      await service?.stop();
      process.stdout.write = originalStdout;
      process.stderr.write = originalStderr;
    }
    const logs = service!.logs.text;
    expect(service!.logs.lines.length).toBeGreaterThan(30);
    expect(logs).toContain('"last4":"0005"');
    expectNoSecrets([logs, captured.join(''), answers.join('\n')].join('\n'));
  });

  test('when every flow runs against the built service process, then its stdout and stderr hold no secret', async () => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'main.js')], {
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', DATA_DIR: temporaryDataDir(), LOG_LEVEL: 'silly', GATEWAY_TIMEOUT_MS: '300' },
      stdio: 'pipe',
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      const port = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const match = /"message":"listening","port":(\d+)/.exec(output);
          if (match) {
            clearInterval(timer);
            resolve(match[1]!);
          }
        }, 50);
        child.on('exit', () => reject(new Error(`service exited: ${output}`)));
      });
      const answers: string[] = [];
      await runEveryFlow(`http://127.0.0.1:${port}`, answers);
      expectNoSecrets(answers.join('\n'));
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expect(output).toContain('"message":"payment"');
    expectNoSecrets(output);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { signWebhook } from '../../src/sessions/webhook-delivery';
import { REPO_ROOT } from '../helpers/service';
import { WEBHOOK_SECRET } from '../helpers/webhooks';

/** The README's verification snippet, run as a merchant would paste it, against what the service sends. */
type Verify = (body: string, header: string, secret: string, toleranceSeconds?: number) => boolean;

function readmeVerifier(): Verify {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Webhooks'));
  const snippet = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]!).find((code) => code.includes('function verifyPaybridgeSignature'));
  if (!snippet) throw new Error('no verifyPaybridgeSignature snippet under ## Webhooks');
  return new Function('require', `${snippet}\nreturn verifyPaybridgeSignature;`)(require) as Verify;
}

test('when a webhook is checked with the README snippet, then a genuine one passes and a tampered, old or wrongly keyed one fails', () => {
  const verify = readmeVerifier();
  const body = '{"id":"evt_1","type":"session.succeeded","created_at":"2026-11-01T00:00:00.000Z","data":{"amount":"12.34"}}';
  const now = Math.floor(Date.now() / 1000);
  const header = signWebhook(body, WEBHOOK_SECRET, now);
  expect(verify(body, header, WEBHOOK_SECRET)).toBe(true);
  expect(verify(body.replace('12.34', '99.99'), header, WEBHOOK_SECRET)).toBe(false);
  expect(verify(body, header, 'whsec_someone_else_0000000000000000')).toBe(false);
  expect(verify(body, signWebhook(body, WEBHOOK_SECRET, now - 301), WEBHOOK_SECRET)).toBe(false);
  expect(verify(body, `t=${now},v1=short`, WEBHOOK_SECRET)).toBe(false);
  expect(verify(body, '', WEBHOOK_SECRET)).toBe(false);
});

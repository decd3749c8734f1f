import { loadConfig } from '../../src/config/settings';
import { ConfigError } from '../../src/errors';
import { compileMappings, connectorCatalog } from '../../src/mapping/connectors';
import { configuredPayers } from '../../src/payments/configured-credentials';
import { KeyedHash } from '../../src/security/keyed-hash';
import { ACCESS_KEY, ACCOUNT_ID } from '../helpers/test-data';

/** Gateway credentials for channels without a Basic header (decisions item 2): read once at start-up, checked as the mapping checks Twilio's. */
function payers(env: Record<string, string>) {
  const config = loadConfig({ ...env, GATEWAY_URL_PAYCONEX: 'http://127.0.0.1:1/api', GATEWAY_URL_NMI: 'http://127.0.0.1:1/nmi', GATEWAY_URL_AUTHORIZE_NET: 'http://127.0.0.1:1/an', GATEWAY_URL_CARDCONNECT: 'http://127.0.0.1:1/cc' });
  const catalog = connectorCatalog(config, compileMappings(config));
  return configuredPayers(catalog, config.secret, new KeyedHash('k'.repeat(32)), config.allowedAccounts);
}

test('when GATEWAY_CREDENTIALS_<NAME>_* are set, then that connector has a payer whose password stays hidden; others have none', () => {
  const found = payers({ GATEWAY_CREDENTIALS_PAYCONEX_USERNAME: ACCOUNT_ID, GATEWAY_CREDENTIALS_PAYCONEX_PASSWORD: ACCESS_KEY });
  expect([...found.keys()]).toEqual(['payconex']);
  const payer = found.get('payconex')!;
  expect(payer.account.id).toBe(ACCOUNT_ID);
  expect(JSON.stringify(payer)).not.toContain(ACCESS_KEY);
});

test('when half a pair, credentials the mapping refuses, or an account ALLOWED_ACCOUNTS does not list, then start-up stops naming the variable, never the value', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ GATEWAY_CREDENTIALS_PAYCONEX_USERNAME: ACCOUNT_ID }, /GATEWAY_CREDENTIALS_PAYCONEX_USERNAME and GATEWAY_CREDENTIALS_PAYCONEX_PASSWORD go together/],
    [{ GATEWAY_CREDENTIALS_PAYCONEX_USERNAME: 'not-an-account', GATEWAY_CREDENTIALS_PAYCONEX_PASSWORD: ACCESS_KEY }, /not valid credentials for payconex/],
    [{ GATEWAY_CREDENTIALS_PAYCONEX_USERNAME: ACCOUNT_ID, GATEWAY_CREDENTIALS_PAYCONEX_PASSWORD: ACCESS_KEY, ALLOWED_ACCOUNTS: '999999999999' }, /ALLOWED_ACCOUNTS does not list/],
  ];
  for (const [env, message] of cases) {
    let thrown: unknown;
    try {
      payers(env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain(ACCESS_KEY);
  }
});

test('when SMS_MODE=log is asked for in production, then start-up stops: the log would hold payment links', () => {
  expect(() => loadConfig({ SMS_MODE: 'log', GATEWAY_ENV: 'production' })).toThrow(/SMS_MODE=log .* refused with GATEWAY_ENV=production/);
  expect(loadConfig({ SMS_MODE: 'log' }).smsMode).toBe('log');
  expect(loadConfig({}).smsAllowedCountries).toEqual(['US']);
  expect(loadConfig({ MERCHANT_COUNTRY: 'GB' }).smsAllowedCountries).toEqual(['GB']);
  expect(loadConfig({ MERCHANT_COUNTRY: 'GB', SMS_ALLOWED_COUNTRIES: 'GB,IE' }).smsAllowedCountries).toEqual(['GB', 'IE']);
});

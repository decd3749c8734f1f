import vm from 'node:vm';
import { loadConfig } from '../../src/config/settings';
import { ConfigError, ConsoleLinkInvalid, InvalidAccessToken, StreamTicketInvalid } from '../../src/errors';
import { contentSecurityPolicy } from '../../src/http/console-routes';
import { AccessTokens } from '../../src/security/access-tokens';
import { ConsoleTokens } from '../../src/security/console-tokens';
import { ConsoleAccess, consoleView } from '../../src/sessions/console-access';
import { DigitalSessions, type DigitalSessionsOptions } from '../../src/sessions/digital-sessions';
import type { ConfiguredPayer } from '../../src/payments/configured-credentials';
import type { SessionResource } from '../../src/sessions/session';
import { SessionLinks } from '../../src/sessions/session-links';
import { openStore, type Store } from '../../src/store/open-journal';
import { SessionLinkStore } from '../../src/store/session-link-store';
import { CONSOLE_SCRIPT } from '../../src/web/console/console-script';
import { consolePage, signInPage } from '../../src/web/console/console-page';
import { PREVIOUS_SIGNING_KEY, TOKEN_SIGNING_KEY } from '../helpers/api-clients';
import { temporaryDataDir } from '../helpers/service';

/** The console's parts on their own: links with a clock the test turns, its tokens, its settings, its page and script. */

describe('console links and stream tickets', () => {
  let store: Store;
  let clock: number;
  let access: ConsoleAccess;
  beforeEach(async () => {
    store = await openStore({ dataDir: temporaryDataDir() });
    clock = Date.parse('2026-11-30T12:00:00Z');
    const links = new SessionLinks(new SessionLinkStore(store.sql), () => clock);
    access = new ConsoleAccess({ links, publicUrl: 'https://pay.example.com/', linkTtlMs: 600_000, now: () => clock });
  });
  afterEach(async () => {
    await store.close();
  });
  const codeOf = (url: string) => url.split('#code=')[1]!;

  test('a console_url is PUBLIC_URL/console/session with the code in the fragment, valid for CONSOLE_LINK_TTL_S, once', async () => {
    const link = await access.link('ps_1');
    expect(link).toEqual({ console_url: expect.stringMatching(/^https:\/\/pay\.example\.com\/console\/session#code=[A-Za-z0-9_-]{43}$/), expires_at: '2026-11-30T12:10:00.000Z' });
    await expect(access.open(codeOf(link.console_url))).resolves.toBe('ps_1');
    await expect(access.open(codeOf(link.console_url))).rejects.toMatchObject({ code: 'CONSOLE_LINK_INVALID', unknownCode: false, message: expect.stringContaining('opened already') });
  });

  test('a console_url not opened within its time has expired, and says so', async () => {
    const link = await access.link('ps_1');
    clock += 600_000;
    const refusal = await access.open(codeOf(link.console_url)).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ConsoleLinkInvalid);
    expect(refusal).toMatchObject({ unknownCode: false, message: 'This console link has expired. Ask for a new one.' });
  });

  test('a new console_url replaces the unopened one; a guessed code is counted as a guess', async () => {
    const first = await access.link('ps_1');
    const second = await access.link('ps_1');
    await expect(access.open(codeOf(first.console_url))).rejects.toBeInstanceOf(ConsoleLinkInvalid);
    await expect(access.open(codeOf(second.console_url))).resolves.toBe('ps_1');
    await expect(access.open('A'.repeat(43))).rejects.toMatchObject({ unknownCode: true });
  });

  test('a stream ticket opens one stream of its session, within a minute', async () => {
    const { ticket, expires_at } = await access.streamTicket('ps_1');
    expect(expires_at).toBe('2026-11-30T12:01:00.000Z');
    await expect(access.useStreamTicket(ticket, 'ps_1')).resolves.toBeUndefined();
    await expect(access.useStreamTicket(ticket, 'ps_1')).rejects.toBeInstanceOf(StreamTicketInvalid);
    const other = await access.streamTicket('ps_1');
    await expect(access.useStreamTicket(other.ticket, 'ps_2')).rejects.toBeInstanceOf(StreamTicketInvalid);
    const late = await access.streamTicket('ps_1');
    clock += 60_000;
    await expect(access.useStreamTicket(late.ticket, 'ps_1')).rejects.toBeInstanceOf(StreamTicketInvalid);
  });
});

describe('console tokens', () => {
  let clock = Date.parse('2026-11-30T12:00:00Z');
  const tokens = (key = TOKEN_SIGNING_KEY, previous?: string) =>
    new ConsoleTokens({ signingKey: key, previousSigningKey: previous, tokenTtlSeconds: 900, signInTtlSeconds: 28_800, now: () => clock });
  const accessTokens = new AccessTokens({
    signingKey: TOKEN_SIGNING_KEY,
    ttlSeconds: 3600,
    clients: { get: () => ({ clientId: 'crm', scopes: ['sessions:write'], progressEvents: false, createdAt: '', registration: 'r1' }), list: () => [] },
    now: () => clock,
  });
  const claims = { sessionId: 'ps_1', clientId: 'crm', registration: 'r1' };

  test('a console token names its session, its client and the registration; a sign-in its agent and a sid', async () => {
    await expect(tokens().verifyConsoleToken(await tokens().issueConsoleToken(claims))).resolves.toEqual(claims);
    const signIn = await tokens().issueSignIn({ name: 'alice', registration: 'u1' });
    await expect(tokens().verifySignIn(signIn.value)).resolves.toEqual({ name: 'alice', registration: 'u1', sid: signIn.sid, expiresAt: new Date(clock + 28_800_000) });
  });

  test('none passes for another: a console token is no access token or sign-in, an access token is no console token, all with the same TOKEN_SIGNING_KEY', async () => {
    const consoleToken = await tokens().issueConsoleToken(claims);
    const signIn = (await tokens().issueSignIn({ name: 'alice', registration: 'u1' })).value;
    const accessToken = (await accessTokens.issue({ clientId: 'crm', scopes: ['sessions:write'], progressEvents: false, createdAt: '', registration: 'r1' }, ['sessions:write'])).accessToken;
    await expect(accessTokens.verify(consoleToken)).rejects.toBeInstanceOf(InvalidAccessToken);
    await expect(tokens().verifyConsoleToken(accessToken)).rejects.toBeInstanceOf(InvalidAccessToken);
    await expect(tokens().verifyConsoleToken(signIn)).rejects.toBeInstanceOf(InvalidAccessToken);
    await expect(tokens().verifySignIn(consoleToken)).rejects.toBeInstanceOf(InvalidAccessToken);
    await expect(accessTokens.verify(accessToken)).resolves.toMatchObject({ clientId: 'crm' }); // the control
  });

  test('an expired console token is refused as signed by us (no guess); one from the previous key still passes while it is configured', async () => {
    const old = await tokens(PREVIOUS_SIGNING_KEY).issueConsoleToken(claims);
    await expect(tokens(TOKEN_SIGNING_KEY, PREVIOUS_SIGNING_KEY).verifyConsoleToken(old)).resolves.toEqual(claims);
    await expect(tokens(TOKEN_SIGNING_KEY).verifyConsoleToken(old)).rejects.toMatchObject({ signedByUs: false });
    const token = await tokens().issueConsoleToken(claims);
    clock += 906_000;
    await expect(tokens().verifyConsoleToken(token)).rejects.toMatchObject({ signedByUs: true });
  });
});

describe('what the console shows', () => {
  const session = (result: SessionResource['result']) => ({ id: 'ps_1', amount: null, result }) as unknown as SessionResource;

  test('the session without the saved card\'s token; anything else as it is', () => {
    expect(consoleView(session({ token_id: '000000000007', error_code: null, error_message: null, twilio_error_code: null })).result).toEqual({ error_code: null, error_message: null, twilio_error_code: null });
    const charged = session({ charge_id: '000000000001', error_code: null, error_message: null, twilio_error_code: null });
    expect(consoleView(charged)).toBe(charged);
  });

  test('the script is valid JavaScript with no template literal (it lives in one); the pages hold no inline script or style, and escape what they show', () => {
    expect(() => new vm.Script(CONSOLE_SCRIPT)).not.toThrow();
    const pages = [signInPage({ csrfToken: 't', name: '"><script>alert(1)</script>', error: '<b>x</b>' }), consolePage({ mode: 'signed-in', user: '<i>', csrfToken: 't', connectors: ['<Default>'], frameAncestors: [] })];
    for (const page of pages) {
      expect(page).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/);
      expect(page).not.toContain('<i>');
      expect(page).not.toContain('<b>');
    }
    expect(pages[1]).toContain('&lt;Default&gt;');
  });

  test('digital payments may use the gateways with configured credentials, DEFAULT_CONNECTOR first', () => {
    const digital = (names: string[], defaultConnector: string) =>
      new DigitalSessions({ payers: new Map(names.map((name) => [name, {} as ConfiguredPayer])), defaultConnector } as unknown as DigitalSessionsOptions);
    expect(digital(['stripe', 'nmi', 'payconex'], 'payconex').connectors()).toEqual(['payconex', 'nmi', 'stripe']);
    expect(digital(['stripe', 'nmi'], 'payconex').connectors()).toEqual(['nmi', 'stripe']);
    expect(digital([], 'payconex').connectors()).toEqual([]);
  });

  test('the start form offers Digital only with a gateway to charge through, its names escaped', () => {
    const page = (digitalConnectors: string[]) => consolePage({ mode: 'signed-in', user: 'a', csrfToken: 't', connectors: ['Default'], digitalConnectors, frameAncestors: [] });
    expect(page([])).toMatch(/id="type-digital" name="type" value="digital" aria-describedby="type-digital-hint" disabled>/);
    expect(page(['pay<conex>'])).not.toMatch(/id="type-digital"[^>]*disabled/);
    expect(page(['pay<conex>'])).toContain('<option value="pay&lt;conex&gt;">pay&lt;conex&gt;</option>');
  });

  test('the policy lets only the service load anything, and only CONSOLE_FRAME_ANCESTORS frame it', () => {
    expect(contentSecurityPolicy([])).toBe("default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'none'");
    expect(contentSecurityPolicy(['https://desktop.example.com', "'self'"])).toContain("frame-ancestors https://desktop.example.com 'self'");
  });
});

describe('console settings', () => {
  test('by default nobody frames the console, it offers TWILIO_PAYMENT_CONNECTOR, links last 10 minutes, sign-ins 8 hours, users in DATA_DIR', () => {
    const config = loadConfig({ DATA_DIR: '/tmp/console-data', TWILIO_PAYMENT_CONNECTOR: 'Main' });
    expect(config).toMatchObject({
      consoleFrameAncestors: [],
      consoleConnectors: ['Main'],
      consoleLinkTtlS: 600,
      consoleTokenTtlS: 900,
      consoleSessionTtlS: 28_800,
      consoleUsersFile: '/tmp/console-data/console-users.json',
    });
  });

  test('origins and connectors are lists', () => {
    const config = loadConfig({ CONSOLE_FRAME_ANCESTORS: 'https://desktop.example.com, http://localhost:3000', CONSOLE_CONNECTORS: 'Main,Backup Gateway' });
    expect(config.consoleFrameAncestors).toEqual(['https://desktop.example.com', 'http://localhost:3000']);
    expect(config.consoleConnectors).toEqual(['Main', 'Backup Gateway']);
  });

  test.each([
    [{ CONSOLE_FRAME_ANCESTORS: '*' }, 'CONSOLE_FRAME_ANCESTORS: must match pattern'],
    [{ CONSOLE_FRAME_ANCESTORS: 'https://desktop.example.com/path' }, 'CONSOLE_FRAME_ANCESTORS: must match pattern'],
    [{ CONSOLE_FRAME_ANCESTORS: "'none' https://a.example.com" }, 'CONSOLE_FRAME_ANCESTORS: must match pattern'],
    [{ CONSOLE_LINK_TTL_S: '5' }, 'CONSOLE_LINK_TTL_S: must be >= 30'],
    [{ CONSOLE_SESSION_TTL_S: '999999' }, 'CONSOLE_SESSION_TTL_S: must be <= 86400'],
    [{ CONSOLE_CONNECTORS: 'Main;rm' }, 'CONSOLE_CONNECTORS: must match pattern'],
  ])('when %o, then start-up stops naming it', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

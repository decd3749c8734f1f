import { createHash } from 'node:crypto';
import { SessionLinks } from '../../src/sessions/session-links';
import { openStore, type Store } from '../../src/store/open-journal';
import { SessionLinkStore } from '../../src/store/session-link-store';
import { TEST_DATABASE_URL, freshPostgresUrl } from '../helpers/postgres';
import { temporaryDataDir } from '../helpers/service';

/** Bearer links (console_url, twiml_url, link_url, stream tickets), against both databases. */
const engines: Array<[string, () => Promise<{ databaseUrl?: string; dataDir: string }>]> = [['SQLite', async () => ({ dataDir: temporaryDataDir() })]];
if (TEST_DATABASE_URL) engines.push(['PostgreSQL', async () => ({ databaseUrl: await freshPostgresUrl(), dataDir: temporaryDataDir() })]);

describe.each(engines)('session links (%s)', (_name, settings) => {
  let store: Store;
  let clock: number;
  let links: SessionLinks;
  beforeEach(async () => {
    store = await openStore(await settings());
    clock = Date.parse('2026-11-30T12:00:00Z');
    links = new SessionLinks(new SessionLinkStore(store.sql), () => clock);
  });
  afterEach(async () => {
    await store.close();
  });

  test('a token is 256 random bits, and the database keeps only its hash', async () => {
    const token = await links.issue('ps_1', 'console', 600_000);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await links.issue('ps_1', 'console', 600_000)).not.toBe(token);
    const rows = await store.sql.all<Record<string, unknown>>({ text: 'SELECT * FROM session_links' });
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows.map((row) => row.token_hash)).toContain(createHash('sha256').update(token).digest('hex'));
  });

  test('a single-use token opens its session once, and only for its purpose', async () => {
    const token = await links.issue('ps_1', 'console', 600_000);
    expect(await links.redeem(token, 'twiml')).toBeUndefined();
    expect(await links.redeem(token, 'console')).toBe('ps_1');
    expect(await links.redeem(token, 'console')).toBeUndefined();
    expect(await links.lookup(token, 'console')).toEqual({ found: true, sessionId: 'ps_1', expired: false, used: true });
  });

  test('concurrent redemptions of one token: exactly one wins', async () => {
    const token = await links.issue('ps_1', 'stream', 60_000);
    const results = await Promise.all(Array.from({ length: 20 }, () => links.redeem(token, 'stream')));
    expect(results.filter((result) => result === 'ps_1')).toHaveLength(1);
  });

  test('an expired token opens nothing, and says it expired', async () => {
    const token = await links.issue('ps_1', 'console', 600_000);
    clock += 600_000;
    expect(await links.redeem(token, 'console')).toBeUndefined();
    expect(await links.lookup(token, 'console')).toEqual({ found: true, sessionId: 'ps_1', expired: true, used: false });
  });

  test('a replacing issue ends the unused tokens before it; unknown and malformed tokens are not found', async () => {
    const first = await links.issue('ps_1', 'console', 600_000);
    const second = await links.issue('ps_1', 'console', 600_000, { replace: true });
    expect(await links.lookup(first, 'console')).toEqual({ found: false });
    expect(await links.redeem(second, 'console')).toBe('ps_1');
    expect(await links.lookup('A'.repeat(43), 'console')).toEqual({ found: false });
    expect(await links.lookup("' OR 1=1 --", 'console')).toEqual({ found: false });
    expect(await links.redeem('x'.repeat(10_000), 'console')).toBeUndefined();
  });

  test('pruning deletes the links expired before the cut-off', async () => {
    const old = await links.issue('ps_1', 'pay', 1_000);
    const fresh = await links.issue('ps_2', 'pay', 3_600_000);
    expect(await new SessionLinkStore(store.sql).prune(clock + 2_000)).toBe(1);
    expect(await links.lookup(old, 'pay')).toEqual({ found: false });
    expect((await links.lookup(fresh, 'pay')).found).toBe(true);
  });
});

import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { PAY_PAGE_HEADERS } from '../../src/http/pay-routes';
import { eventually } from '../helpers/eventually';
import { CUSTOMER_PHONE, DECLINED_CARD, DIGITAL_ENV, PageVisitor, cancelSession, createDigital, expireNow } from '../helpers/pay-page';
import { REPO_ROOT } from '../helpers/service';
import { startSessionStack, type SessionStack } from '../helpers/session-stack';
import { BANK_ACCOUNT, ROUTING, VISA } from '../helpers/test-data';

/**
 * The payment page's script inventory (PCI DSS 4.0 6.4.3; 11.6.1 in spirit): every state of the
 * page is loaded over HTTP, every script it names is fetched and hashed, and each must match
 * src/web/pay/script-inventory.json, as must its integrity attribute, the stylesheet and the
 * security headers of every answer under /pay/. No page may carry an inline script or style, or a
 * URL of another origin.
 */
jest.setTimeout(120_000);

const INVENTORY_FILE = path.join(REPO_ROOT, 'src', 'web', 'pay', 'script-inventory.json');
interface Asset {
  path: string;
  source: string;
  purpose: string;
  sha384: string;
}
interface Inventory {
  scripts: Array<{ path: string; source: string; purpose: string; justification: string; integrity: string }>;
  stylesheets: Asset[];
  images: Asset[];
  headers: Record<string, string>;
}
const inventory = JSON.parse(fs.readFileSync(INVENTORY_FILE, 'utf8')) as Inventory;
const HOW_TO_UPDATE =
  'If the change is intended: review it (what the script reads, what it sends and where; what the header allows), then put the served value into src/web/pay/script-inventory.json in the same commit (PCI DSS 6.4.3).';
/** Headers that make a page safer or less so: any the inventory does not name must be absent. */
const SECURITY_HEADERS = [
  'content-security-policy',
  'content-security-policy-report-only',
  'cache-control',
  'referrer-policy',
  'x-content-type-options',
  'x-frame-options',
  'strict-transport-security',
  'permissions-policy',
  'cross-origin-opener-policy',
  'cross-origin-embedder-policy',
  'cross-origin-resource-policy',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'x-xss-protection',
];

const sha384 = (body: Buffer | string) => `sha384-${createHash('sha384').update(body).digest('base64')}`;

/** What differs from the inventory, each said once with the answers it was found in. */
class Findings {
  private readonly where = new Map<string, string[]>();

  add(message: string, answer = ''): void {
    const answers = this.where.get(message) ?? [];
    if (answer) answers.push(answer);
    this.where.set(message, answers);
  }

  /** The findings, then what to do about them. */
  list(advice = HOW_TO_UPDATE): string[] {
    const said = [...this.where].map(([message, answers]) => (answers.length > 0 ? `${message} (${answers.join('; ')})` : message));
    return said.length > 0 ? [...said, advice] : [];
  }
}

let stack: SessionStack;
let token: string;
/** Every page state's answer, by name. */
const pages = new Map<string, request.Response>();

beforeAll(async () => {
  // A short gateway deadline: the sandbox's slow amount (2.02) leaves an attempt processing for the page to show.
  stack = await startSessionStack({ ...DIGITAL_ENV, GATEWAY_TIMEOUT_MS: '5000' });
  token = await stack.token();
});
afterAll(async () => {
  await stack?.stop();
});

/** Records where an answer's security headers differ from the inventory. */
function checkHeaders(findings: Findings, what: string, answer: request.Response): void {
  for (const [name, value] of Object.entries(inventory.headers)) {
    const served = answer.headers[name.toLowerCase()];
    if (served !== value) findings.add(`${name} is ${served === undefined ? 'missing' : JSON.stringify(served)}, the inventory says ${JSON.stringify(value)}`, what);
  }
  const named = new Set(Object.keys(inventory.headers).map((name) => name.toLowerCase()));
  for (const name of SECURITY_HEADERS.filter((header) => !named.has(header))) {
    if (answer.headers[name] !== undefined) findings.add(`${name} is ${JSON.stringify(answer.headers[name])}, a header the inventory does not list`, what);
  }
}

interface Tag {
  name: string;
  attributes: Record<string, string>;
  /** The text up to the closing tag (scripts and styles only). */
  body?: string;
}

/** The page's start tags with their attributes (the page is the service's own, plain HTML). */
function tagsOf(html: string): Tag[] {
  const tags: Tag[] = [];
  for (const match of html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>/g)) {
    const attributes: Record<string, string> = {};
    for (const attribute of match[2]!.matchAll(/([^\s=>/]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?/g)) {
      attributes[attribute[1]!.toLowerCase()] = (attribute[2] ?? '').replace(/^["']|["']$/g, '').replace(/&amp;/g, '&').replace(/&quot;/g, '"');
    }
    const name = match[1]!.toLowerCase();
    const tag: Tag = { name, attributes };
    if (name === 'script' || name === 'style') {
      const rest = html.slice(match.index + match[0].length);
      tag.body = rest.slice(0, rest.search(new RegExp(`</${name}\\s*>`, 'i')));
    }
    tags.push(tag);
  }
  return tags;
}

/** Where an attribute's URL goes, if the page would fetch or follow it. */
const URL_ATTRIBUTES = ['src', 'href', 'action', 'formaction', 'srcset', 'poster', 'data', 'ping', 'background', 'cite', 'longdesc', 'manifest'];

function checkPage(what: string, html: string): string[] {
  const origin = new URL(stack.service.url).origin;
  const base = `${stack.service.url}/pay/page`;
  const found: string[] = [];
  for (const tag of tagsOf(html)) {
    if (tag.name === 'script') {
      if (!tag.attributes.src) found.push(`${what}: an inline <script>`);
      else if (tag.body?.trim()) found.push(`${what}: a <script src> with a body`);
    }
    if (tag.name === 'style') found.push(`${what}: an inline <style>`);
    for (const [name, value] of Object.entries(tag.attributes)) {
      if (name === 'style') found.push(`${what}: a style attribute on <${tag.name}>`);
      if (name.startsWith('on')) found.push(`${what}: an event handler attribute ${name} on <${tag.name}>`);
      if (/^\s*javascript:/i.test(value)) found.push(`${what}: a javascript: URL on <${tag.name}>`);
      else if (URL_ATTRIBUTES.includes(name)) {
        for (const candidate of name === 'srcset' ? value.split(',').map((entry) => entry.trim().split(/\s+/)[0]!) : [value]) {
          if (new URL(candidate, base).origin !== origin) found.push(`${what}: <${tag.name} ${name}="${candidate}"> is not the service's`);
        }
      }
    }
    if (tag.name === 'meta' && tag.attributes['http-equiv']?.toLowerCase() === 'refresh' && /url\s*=/i.test(tag.attributes.content ?? '')) {
      found.push(`${what}: a meta refresh to another address`);
    }
  }
  // No address of another site anywhere in the text either (a URL in a message, a stylesheet's url()).
  for (const url of html.match(/(?:https?:)?\/\/[^\s"'<>)]+/g) ?? []) {
    if (new URL(url, base).origin !== origin) found.push(`${what}: the text names ${url}`);
  }
  return found;
}

/** What else than scripts a page may load, how it names each, its type, and what it must not contain (a way to load more). */
const OTHER_ASSETS = [
  { kind: 'stylesheets', rel: /\bstylesheet\b/i, type: 'text/css; charset=utf-8', loadsMore: /url\s*\(|@import/i },
  { kind: 'images', rel: /\bicon\b/i, type: 'image/svg+xml; charset=utf-8', loadsMore: /href|url\s*\(|<script|<foreignObject/i },
] as const;

/** The scripts a page names, and its other assets (<link rel>) by kind. */
function assetsOf(html: string): { scripts: Array<{ src: string; integrity?: string }>; links: Array<{ rel: string; href: string }> } {
  const tags = tagsOf(html);
  return {
    scripts: tags.filter((tag) => tag.name === 'script' && tag.attributes.src).map((tag) => ({ src: tag.attributes.src!, integrity: tag.attributes.integrity })),
    links: tags.filter((tag) => tag.name === 'link').map((tag) => ({ rel: tag.attributes.rel ?? '', href: tag.attributes.href ?? '' })),
  };
}

/** A Visa's security code has 3 digits (the test data's CVV, 9731, is an American Express one). */
const SECURITY_CODE = '846';
const CARD = { card_number: VISA, expiry: '08/30', security_code: SECURITY_CODE, postal_code: '94111' };

describe('the payment page, state by state', () => {
  beforeAll(async () => {
    const record = (name: string, answer: request.Response) => {
      pages.set(name, answer);
    };

    // The form, card and bank account; the same page after a stale form (?form=expired).
    const card = await createDigital(stack, token, { description: 'Water bill, October' });
    const cardPage = new PageVisitor(stack.service.url, card.link_url);
    record('form', await cardPage.open());
    record('form after a stale post', await cardPage.open(`${cardPage.path}?form=expired`));
    const ach = await createDigital(stack, token, { payment_method: 'ach' });
    const achPage = new PageVisitor(stack.service.url, ach.link_url);
    record('bank account form', await achPage.open());

    // Mistakes: the POST redirects to the form with its problems named.
    const mistakes = await cardPage.pay({ card_number: '4111111111111112', expiry: '13/30', security_code: '12', postal_code: '' });
    record('POST with mistakes (303)', mistakes);
    record('form with problems', await cardPage.open(mistakes.headers.location!));
    const achMistakes = await achPage.pay({ routing_number: '123456789', account_number: '12', account_type: '' });
    record('bank account POST with mistakes (303)', achMistakes);
    record('bank account form with problems', await achPage.open(achMistakes.headers.location!));

    // A decline, and the form again for the next attempt; then paid.
    const declined = await cardPage.pay({ ...CARD, card_number: DECLINED_CARD });
    record('POST declined (303)', declined);
    record('form after a decline', await cardPage.open(declined.headers.location!));
    record('POST paid (303)', await cardPage.pay(CARD));
    record('paid', await cardPage.open());
    await achPage.pay({ routing_number: ROUTING, account_number: BANK_ACCOUNT, account_type: 'savings' });
    record('bank account paid', await achPage.open());

    // Processing: the sandbox takes 12 s over 2.02, past the gateway's deadline.
    const slow = await createDigital(stack, token, { amount: '2.02' });
    const slowPage = new PageVisitor(stack.service.url, slow.link_url);
    await slowPage.open();
    const posting = slowPage.pay(CARD);
    record('processing', await eventually(async () => {
      const page = await slowPage.open();
      return page.text.includes('Your payment is being processed') ? page : undefined;
    }, 'the processing page'));
    await posting;

    // Failed: every attempt declined.
    const failing = await createDigital(stack, token);
    const failingPage = new PageVisitor(stack.service.url, failing.link_url);
    for (let attempt = 1; attempt <= failing.attempts.allowed; attempt++) {
      await failingPage.open();
      await failingPage.pay({ ...CARD, card_number: DECLINED_CARD });
    }
    record('failed', await failingPage.open());

    // Cancelled; expired (410, also for a form loaded before); not found (404).
    const cancelled = await createDigital(stack, token);
    const cancelledPage = new PageVisitor(stack.service.url, cancelled.link_url);
    await cancelledPage.open();
    await cancelSession(stack, token, cancelled.id);
    record('POST after cancellation (303)', await cancelledPage.pay(CARD));
    record('cancelled', await cancelledPage.open());
    const expiring = await createDigital(stack, token);
    const expiringPage = new PageVisitor(stack.service.url, expiring.link_url);
    await expiringPage.open();
    expireNow(stack, expiring.id);
    record('POST after expiry (410)', await expiringPage.pay(CARD));
    record('expired', await expiringPage.open());
    record('not found', await new PageVisitor(stack.service.url, `${stack.service.url}/pay/${randomBytes(32).toString('base64url')}`).open());
    record('not found (malformed link)', await new PageVisitor(stack.service.url, `${stack.service.url}/pay/not-a-link`).open());
  });

  test('each state answers with its status and its own page', () => {
    const statusOf = (name: string) => pages.get(name)?.status;
    expect(Object.fromEntries([...pages.keys()].map((name) => [name, statusOf(name)]))).toEqual({
      form: 200,
      'form after a stale post': 200,
      'bank account form': 200,
      'POST with mistakes (303)': 303,
      'form with problems': 200,
      'bank account POST with mistakes (303)': 303,
      'bank account form with problems': 200,
      'POST declined (303)': 303,
      'form after a decline': 200,
      'POST paid (303)': 303,
      paid: 200,
      'bank account paid': 200,
      processing: 200,
      failed: 200,
      'POST after cancellation (303)': 303,
      cancelled: 200,
      'POST after expiry (410)': 410,
      expired: 410,
      'not found': 404,
      'not found (malformed link)': 404,
    });
    const text = (name: string) => pages.get(name)!.text;
    expect(text('form')).toContain('Enter your payment details');
    expect(text('form with problems')).toContain('There is a problem');
    expect(text('bank account form with problems')).toContain('Choose checking or savings');
    expect(text('form after a decline')).toContain('Your last payment attempt was declined');
    expect(text('paid')).toContain('Payment successful');
    expect(text('bank account paid')).toContain('Bank account ending');
    expect(text('processing')).toContain('Your payment is being processed');
    expect(text('failed')).toContain('Your payment could not be taken');
    expect(text('cancelled')).toContain('This payment was cancelled');
    expect(text('expired')).toContain('This payment link has expired');
    expect(text('not found')).toContain('Payment link not found');
    // Every POST answers with a redirect to the page itself, or with a page (expired).
    for (const [name, answer] of pages) {
      if (answer.status === 303) expect({ name, location: answer.headers.location }).toEqual({ name, location: expect.stringMatching(/^\/pay\/[A-Za-z0-9_-]{43}(\?[a-z_=:,]*)?$/) });
    }
  });

  test('when a page, a redirect, an asset or a heartbeat answers, then it carries the inventory\'s security headers, and no other', async () => {
    // The code's list and the inventory's are the same list.
    const inCode = Object.entries(PAY_PAGE_HEADERS).sort(([a], [b]) => a.localeCompare(b));
    const inInventory = Object.entries(inventory.headers).sort(([a], [b]) => a.localeCompare(b));
    const findings = new Findings();
    if (JSON.stringify(inCode) !== JSON.stringify(inInventory)) {
      findings.add(`PAY_PAGE_HEADERS (src/http/pay-routes.ts) is ${JSON.stringify(Object.fromEntries(inCode))}, the inventory says ${JSON.stringify(Object.fromEntries(inInventory))}`);
    }
    for (const [name, answer] of pages) checkHeaders(findings, name, answer);
    const beat = await (async () => {
      const visitor = new PageVisitor(stack.service.url, (await createDigital(stack, token)).link_url);
      await visitor.open();
      return visitor.agent.post(`${visitor.path}/presence`).set('X-CSRF-Token', visitor.csrf).send({ typed: { card_number: 4 } });
    })();
    expect(beat.status).toBe(204);
    checkHeaders(findings, 'heartbeat', beat);
    const refused = await request(stack.service.url).post(`/pay/${'A'.repeat(43)}/presence`).send({});
    expect(refused.status).toBe(403);
    checkHeaders(findings, 'refused heartbeat', refused);
    for (const asset of [...inventory.scripts, ...inventory.stylesheets, ...inventory.images]) checkHeaders(findings, asset.path, await request(stack.service.url).get(asset.path));
    expect(findings.list()).toEqual([]);
  });

  test('when each state\'s scripts, stylesheet and icon are fetched and hashed, then they are the inventory\'s, the scripts named with its integrity value', async () => {
    const found = new Findings();
    const scriptsSeen = new Set<string>();
    const linksSeen = new Map<string, Set<string>>(OTHER_ASSETS.map(({ kind }) => [kind, new Set<string>()]));
    for (const [name, answer] of pages) {
      if (answer.status === 303) continue;
      const assets = assetsOf(answer.text);
      expect({ name, scripts: assets.scripts.length }).toEqual({ name, scripts: inventory.scripts.length });
      for (const script of assets.scripts) {
        const listed = inventory.scripts.find((entry) => entry.path === new URL(script.src, stack.service.url).pathname);
        scriptsSeen.add(script.src);
        if (!listed) {
          found.add(`The page loads ${script.src}, which the inventory does not list: add it (path, source, loaded_by, purpose, justification, integrity)`, name);
          continue;
        }
        if (script.integrity !== listed.integrity) found.add(`The page names ${script.src} with integrity ${JSON.stringify(script.integrity)}, the inventory says ${listed.integrity}`, name);
      }
      for (const link of assets.links) {
        const kind = OTHER_ASSETS.find((asset) => asset.rel.test(link.rel))?.kind;
        if (!kind) {
          found.add(`The page has a <link rel="${link.rel}" href="${link.href}">, which the test does not know: add its kind to the inventory and the test`, name);
          continue;
        }
        linksSeen.get(kind)!.add(link.href);
        if (!inventory[kind].some((entry) => entry.path === new URL(link.href, stack.service.url).pathname)) found.add(`The page loads ${link.href}, which the inventory's ${kind} do not list: add it`, name);
      }
    }
    for (const src of scriptsSeen) {
      const served = await request(stack.service.url).get(src).buffer(true).parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
      expect({ src, status: served.status, type: served.headers['content-type'] }).toEqual({ src, status: 200, type: 'text/javascript; charset=utf-8' });
      const hash = sha384(served.body as Buffer);
      const listed = inventory.scripts.find((entry) => entry.path === new URL(src, stack.service.url).pathname);
      if (listed && hash !== listed.integrity) found.add(`The served ${src} hashes to ${hash}, the inventory says ${listed.integrity} (source: ${listed.source})`);
      const text = (served.body as Buffer).toString('utf8');
      if (/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i.test(text)) found.add(`${src} names another site's address`);
    }
    for (const { kind, type, loadsMore } of OTHER_ASSETS) {
      for (const href of linksSeen.get(kind)!) {
        const served = await request(stack.service.url).get(href).buffer(true).parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        });
        expect({ href, status: served.status, type: served.headers['content-type'] }).toEqual({ href, status: 200, type });
        const listed = inventory[kind].find((entry) => entry.path === new URL(href, stack.service.url).pathname);
        const hash = sha384(served.body as Buffer);
        if (listed && hash !== listed.sha384) found.add(`The served ${href} hashes to ${hash}, the inventory says ${listed.sha384} (source: ${listed.source})`);
        if (loadsMore.test((served.body as Buffer).toString('utf8'))) found.add(`${href} loads something more (${String(loadsMore)})`);
      }
      for (const entry of inventory[kind]) if (![...linksSeen.get(kind)!].some((href) => new URL(href, stack.service.url).pathname === entry.path)) found.add(`The inventory lists ${entry.path}, which no page loads: remove it`);
    }
    // Nothing listed that no page loads: the inventory stays the page's.
    for (const entry of inventory.scripts) if (![...scriptsSeen].some((src) => new URL(src, stack.service.url).pathname === entry.path)) found.add(`The inventory lists ${entry.path}, which no page loads: remove it`);
    expect(found.list()).toEqual([]);
    for (const entry of inventory.scripts) expect(entry).toEqual({ path: expect.any(String), source: expect.any(String), loaded_by: expect.any(String), purpose: expect.any(String), justification: expect.any(String), integrity: expect.stringMatching(/^sha384-[A-Za-z0-9+/]{64}$/) });
  });

  test('when any state is read, then it has no inline script or style, no event handler attribute, and no address of another site; the form posts to its own page', () => {
    const found: string[] = [];
    for (const [name, answer] of pages) if (answer.status !== 303) found.push(...checkPage(name, answer.text));
    expect(found).toEqual([]);
    for (const name of ['form', 'bank account form', 'form with problems', 'form after a decline']) {
      const forms = tagsOf(pages.get(name)!.text).filter((tag) => tag.name === 'form');
      expect({ name, forms: forms.map((form) => ({ method: form.attributes.method, action: form.attributes.action })) }).toEqual({ name, forms: [{ method: 'post', action: undefined }] });
    }
    // The checker itself finds what it looks for.
    const planted = checkPage('planted', '<script>alert(1)</script><style>p{}</style><p style="x" onclick="y"><img src="https://cdn.example/x.png"><a href="javascript:void 0">');
    expect(planted).toEqual([
      'planted: an inline <script>',
      'planted: an inline <style>',
      'planted: a style attribute on <p>',
      'planted: an event handler attribute onclick on <p>',
      'planted: <img src="https://cdn.example/x.png"> is not the service\'s',
      'planted: a javascript: URL on <a>',
      'planted: the text names https://cdn.example/x.png',
    ]);
  });

  test('when the customer\'s digits were posted, then no page shows them back', () => {
    const everything = [...pages.values()].map((answer) => `${answer.headers.location ?? ''}\n${answer.text}`).join('\n');
    for (const digits of [VISA, DECLINED_CARD, '4111111111111112', BANK_ACCOUNT, ROUTING, CUSTOMER_PHONE]) expect({ digits, shown: everything.includes(digits) }).toEqual({ digits, shown: false });
    // A 3-digit code counts standing alone only, not inside a token's letters, digits, - and _.
    expect(new RegExp(`(?<![0-9A-Za-z_-])${SECURITY_CODE}(?![0-9A-Za-z_-])`).test(everything)).toBe(false);
  });
});

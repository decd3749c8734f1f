import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { REPO_ROOT } from './service';

/** Debian's Chromium, driven by playwright-core (apt-get install -y chromium; .ci/run does). */
export const CHROMIUM = '/usr/bin/chromium';
export const LAUNCH_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Generous: a slow 2-core machine. */
export const WAIT = { timeout: 30_000 };
/** The README's screenshots: written to docs/screenshots only with UPDATE_SCREENSHOTS=1, to a temporary folder otherwise. */
export const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(REPO_ROOT, 'docs', 'screenshots') : fs.mkdtempSync(path.join(os.tmpdir(), 'console-screenshots-'));

/** Everything one page received and showed, for the leak search. */
export class Observed {
  readonly texts: string[] = [];
  /** Bytes of each document, script, stylesheet and image the page loaded. */
  readonly loads = new Map<string, number>();
  readonly problems: string[] = [];
  readonly requestedUrls: string[] = [];
  private readonly pending: Array<Promise<unknown>> = [];

  static async watch(page: Page): Promise<Observed> {
    const observed = new Observed();
    page.on('request', (sent) => observed.requestedUrls.push(sent.url()));
    page.on('console', (message) => {
      observed.texts.push(`console.${message.type()}: ${message.text()}`);
      if (message.type() === 'error') observed.problems.push(message.text());
    });
    page.on('pageerror', (error) => observed.problems.push(error.message));
    page.on('response', (response) => {
      if ((response.headers()['content-type'] ?? '').includes('text/event-stream')) return;
      observed.pending.push(
        response.body().then(
          (body) => {
            observed.texts.push(body.toString('utf8'));
            if (['document', 'script', 'stylesheet', 'image'].includes(response.request().resourceType())) observed.loads.set(response.url(), body.length);
          },
          () => undefined,
        ),
      );
    });
    // Server-Sent Events never end, so their bodies come through the DevTools protocol, message by message.
    const devtools = await page.context().newCDPSession(page);
    await devtools.send('Network.enable');
    devtools.on('Network.eventSourceMessageReceived', (message: { data: string }) => observed.texts.push(message.data));
    return observed;
  }

  async all(): Promise<string> {
    await Promise.all(this.pending);
    return this.texts.join('\n');
  }
}

export async function axeViolations(page: Page | Frame): Promise<Array<{ id: string; impact: string | null }>> {
  // Injected through the DevTools protocol: the page's CSP rightly refuses inline scripts.
  await page.evaluate(fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string | null }> }> } }).axe;
    return (await axe.run()).violations.map((violation) => ({ id: violation.id, impact: violation.impact }));
  });
}

/** No serious or critical axe-core violation; nothing wider than 320 px; the DOM kept for the leak search. */
export async function expectAccessible(page: Page, dom: string[]): Promise<void> {
  const serious = (await axeViolations(page)).filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  expect(serious).toEqual([]);
  // Readable at 320 px: nothing wider than the screen.
  const size = page.viewportSize()!;
  await page.setViewportSize({ width: 320, height: size.height });
  expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(320);
  await page.setViewportSize(size);
  dom.push(await page.content());
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
}

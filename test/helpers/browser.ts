import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { REPO_ROOT } from './service';

/** Debian's Chromium (apt-get install -y chromium), driven by playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';
export const LAUNCH_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Generous for a slow 2-core machine. */
export const WAIT = { timeout: 30_000 };

export function requireChromium(): void {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
}

/** Where screenshots go: docs/screenshots/ with UPDATE_SCREENSHOTS=1 (the README's), otherwise a temporary folder. */
export function screenshotsFolder(prefix: string): string {
  return process.env.UPDATE_SCREENSHOTS === '1' ? path.join(REPO_ROOT, 'docs', 'screenshots') : fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-screenshots-`));
}

/** Everything one page received and showed, for the leak search, and what it loaded, for its weight. */
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

export interface AxeViolation {
  id: string;
  impact: string | null;
  /** The first elements it concerns, for the failure message. */
  targets?: string[];
}

/** axe-core's violations on the page (or frame) as it is now. */
export async function axeViolations(page: Page | Frame): Promise<AxeViolation[]> {
  // Injected through the DevTools protocol: the page's CSP rightly refuses inline scripts.
  await page.evaluate(fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: unknown[] }> }> }> } }).axe;
    return (await axe.run()).violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      targets: violation.nodes.slice(0, 3).map((node) => JSON.stringify(node.target)),
    }));
  });
}

/** The serious and critical ones only (what the acceptance criteria forbid). */
export async function seriousViolations(page: Page | Frame): Promise<AxeViolation[]> {
  return (await axeViolations(page)).filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

/** The console's screenshots (console-<name>.png): the README's with UPDATE_SCREENSHOTS=1. */
export const SCREENSHOTS = screenshotsFolder('console');

/** No serious or critical axe-core violation; nothing wider than 320 px; the DOM kept for the leak search. */
export async function expectAccessible(page: Page, dom: string[]): Promise<void> {
  expect(await seriousViolations(page)).toEqual([]);
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

import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

/** Debian's chromium (.ci/run installs it); playwright-core drives it over CDP, nothing is downloaded. */
export const CHROMIUM = '/usr/bin/chromium';

export interface PageCheck {
  tables: { count: number; empty: number };
  /** empty: no size; blank: no data mark (bar, point, line, rule) with a size inside */
  svgs: { count: number; empty: number; blank: number };
  /** console errors and uncaught page errors */
  errors: string[];
  /** failed requests (a chart that did not load, a missing file) */
  failed: string[];
}

/**
 * Open an HTML file in headless Chromium with a fresh profile and no background networking (the network is closed
 * here), collect console errors, count tables and inline SVGs with their rendered sizes, and save a screenshot of
 * the first screen.
 */
export async function checkPage(htmlPath: string, screenshot: string): Promise<PageCheck> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium)`);
  const profile = mkdtempSync(join(tmpdir(), 'bpf-lab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    const failed: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
    const sizes = async (selector: string) => {
      const boxes = await page.locator(selector).evaluateAll((els) => els.map((e) => { const r = e.getBoundingClientRect(); return r.width * r.height; }));
      return { count: boxes.length, empty: boxes.filter((a) => !(a > 0)).length };
    };
    const blank = await page.locator('figure.chart > svg').evaluateAll((svgs) => svgs.filter((svg) =>
      ![...svg.querySelectorAll('.role-mark [role="graphics-symbol"]')].some((m) => { const r = m.getBoundingClientRect(); return r.width > 0 && r.height > 0; })).length);
    const result = { tables: await sizes('table'), svgs: { ...(await sizes('figure.chart > svg')), blank }, errors, failed };
    await page.screenshot({ path: screenshot });
    return result;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

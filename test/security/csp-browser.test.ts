/**
 * The Content-Security-Policy must not break the product: the dashboard and both embeds load in
 * Debian's chromium with zero CSP violations and render their content, and an embed framed by
 * another origin renders while a dashboard page framed the same way is blocked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { launchBrowser } from '../support/browser.js';
import { ensureClientBuilt, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  ensureClientBuilt();
  server = await startTestServer({ template: 'kalteng' });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function visit(path: string) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('requestfailed', (r) => pageErrors.push(`failed ${r.url()}`));
  page.on('response', (r) => { if (r.status() >= 400) pageErrors.push(`${r.status()} ${r.url()}`); });
  const res = await page.goto(server.url + path, { waitUntil: 'networkidle' });
  await page.waitForTimeout(1500);
  if (pageErrors.length) console.log(path, pageErrors);
  const text = (await page.locator('body').innerText()) + (await page.locator('#root').innerHTML());
  await ctx.close();
  return { status: res?.status(), csp: res?.headers()['content-security-policy'] ?? '', violations, text };
}

describe('CSP in a real browser', () => {
  for (const path of ['/', '/area/62', '/embed/map', '/embed/scoreboard']) {
    it(`${path} renders with no CSP violation`, async () => {
      const r = await visit(path);
      expect(r.status).toBe(200);
      expect(r.csp).toContain("script-src 'self'");
      expect(r.violations).toEqual([]);
      // The app rendered something (a blocked bundle leaves an empty #root).
      expect(r.text.trim().length).toBeGreaterThan(20);
    });
  }

  it('an embed renders inside a frame on another origin; the dashboard refuses to be framed', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    // A news site on another origin (served by the test itself) frames both pages.
    // A "news site": a real server on another port (another origin, and a local address: Chromium
    // blocks pages it considers public from framing local ones, which is not what is tested here).
    const news = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><iframe src="${server.url}/embed/scoreboard" width="600" height="400"></iframe><iframe src="${server.url}/area/62" width="600" height="400"></iframe>`);
    });
    await new Promise<void>((r) => news.listen(0, '127.0.0.1', () => r()));
    await page.goto(`http://127.0.0.1:${(news.address() as AddressInfo).port}/article`);
    await page.waitForTimeout(6000);
    const embed = page.frames().find((f) => f.url().includes('/embed/scoreboard'));
    expect(embed).toBeTruthy();
    expect((await embed!.locator('body').innerText()).trim().length).toBeGreaterThan(20);
    const dash = page.frames().find((f) => f.url().includes('/area/62'));
    // Chromium replaces a refused frame with an empty error document.
    const dashText = dash ? await dash.locator('body').innerText().catch(() => '') : '';
    expect(dashText.trim()).toBe('');
    await ctx.close();
    news.close();
  });
});

import fs from 'node:fs';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Server } from 'node:http';
import { chromium, Browser, BrowserContext, Page } from 'playwright-core';
import { createApp } from '../../src/app';
import { ensureBootstrapAdminKey } from '../../src/features/api-keys/api-keys.service';
import { createTestDatabase, TestDatabase } from './database';

/*
 * What the console's browser tests share: a real HTTP server on 127.0.0.1 over a fresh database, Debian's
 * Chromium through playwright-core (no browser download; .ci/run installs chromium), axe-core run on each
 * screen, screenshots, and an admin key for setting things up through the API. Each suite makes its own harness
 * and writes its axe results to docs/console/axe-results-<suite>.json (or a temporary folder).
 */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
/** docs/console/ with CONSOLE_SCREENSHOTS=1 (to refresh the committed screenshots), else a temporary folder. */
export const SHOTS = process.env.CONSOLE_SCREENSHOTS
  ? path.resolve(__dirname, '../../docs/console')
  : path.join(os.tmpdir(), `trialdesk-console-${process.pid}`);
export const PASSWORD = 'green tea at nine';

export interface AxeSummary {
  passed: number;
  violations: number;
  serious: number;
  ids: string[];
}

export interface ConsoleHarness {
  db: TestDatabase;
  base: string;
  adminKey: string;
  browser: Browser;
  /** axe results per screen of this suite. */
  axeResults: Record<string, AxeSummary>;
  /** Moves the service's clock (not the browser's) ahead, to expire sessions without waiting. */
  advanceClock(ms: number): void;
  /** A call to the API with the admin key; throws on any status that is not 2xx. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  api(method: string, url: string, body?: unknown): Promise<any>;
  /** Creates a user through the API and sets the shared test password; answers the e-mail. */
  user(name: string, email: string, scope: Record<string, unknown>): Promise<string>;
  /** A fresh browser profile (no cookie, no remembered language) that records CSP violations and page errors. */
  newPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }>;
  /** Runs axe-core on the screen (WCAG 2.2 A/AA rules), records the result, saves a screenshot. */
  check(page: Page, name: string): Promise<void>;
  /** Signs in on the sign-in screen and waits for the trials list. */
  signIn(page: Page, email: string): Promise<void>;
  close(): Promise<void>;
}

export async function startConsoleHarness(suite: string): Promise<ConsoleHarness> {
  if (!CHROMIUM) throw new Error('Chromium is not installed (apt-get install -y chromium)');
  const db = await createTestDatabase();
  const bootstrap = await ensureBootstrapAdminKey(db.knex, null);
  if (bootstrap.kind !== 'generated') throw new Error('expected an empty database');
  const adminKey = bootstrap.key;
  let offsetMs = 0;
  const app = createApp({ db, now: () => new Date(Date.now() + offsetMs) });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fs.mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  const axeResults: Record<string, AxeSummary> = {};

  async function api(method: string, url: string, body?: unknown) {
    const res = await fetch(base + url, {
      method,
      headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  async function newPage() {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: 'en-GB' });
    const page = await context.newPage();
    // The machines running the suite are shared and often loaded: wait longer than Playwright's 30 s default.
    page.setDefaultTimeout(90_000);
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of (40[1349]|412|422)/.test(message.text()))
        problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    return { context, page, problems };
  }

  async function check(page: Page, name: string) {
    // Evaluated through the DevTools protocol, which the page's CSP does not govern; the page itself stays strict.
    await page.evaluate(AXE);
    const result = (await page.evaluate(
      "axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })",
    )) as { violations: { id: string; impact: string | null }[]; passes: unknown[] };
    // Proof that axe ran its rules on this screen (a page it could not read would pass nothing).
    if (result.passes.length <= 5) throw new Error(`axe passed only ${result.passes.length} rules on ${name}`);
    const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    axeResults[name] = {
      passed: result.passes.length,
      violations: result.violations.length,
      serious: serious.length,
      ids: result.violations.map((v) => `${v.id} (${v.impact})`),
    };
    // A modal dialog's backdrop covers the viewport only: photograph the viewport then.
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: !name.includes('confirm') });
    if (serious.length > 0) throw new Error(`${name}: ${serious.map((v) => v.id).join(', ')}`);
  }

  async function signIn(page: Page, email: string) {
    await page.goto(`${base}/`);
    await page.getByLabel(/E-mail|電郵/).fill(email);
    await page.getByLabel(/^(Password|密碼)$/).fill(PASSWORD);
    await page.getByRole('button', { name: /^(Sign in|登入)$/ }).click();
    await page.getByRole('heading', { level: 1, name: /^(Trials|研究)$/ }).waitFor();
  }

  return {
    db,
    base,
    adminKey,
    browser,
    axeResults,
    advanceClock: (ms) => {
      offsetMs += ms;
    },
    api,
    user: async (name, email, scope) => {
      const created = await api('POST', '/v1/users', { name, email, ...scope });
      await api('POST', '/v1/password', { token: created.setPasswordToken, password: PASSWORD });
      return email;
    },
    newPage,
    check,
    signIn,
    close: async () => {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
      await db.close();
      fs.writeFileSync(path.join(SHOTS, `axe-results-${suite}.json`), `${JSON.stringify(axeResults, null, 2)}\n`);
    },
  };
}

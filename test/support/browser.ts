// The web console in headless Chromium against the local runtime. The console is built here, into a
// temporary folder, so `npm test` needs no build step. Each test gets a fresh browser context and
// page; what the page reports (script errors, policy refusals) is collected for expectCleanPage.
// Screenshots go to test-artifacts/e2e/.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../infra/local/runtime.js';
import { buildConsole } from '../../web/build/build.js';
import { loadConsoleSite } from '../../web/server/console-site.js';

/** Debian's package (`apt-get install chromium`); CHROMIUM_PATH points elsewhere. */
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const screenshots = fileURLToPath(new URL('../../test-artifacts/e2e/', import.meta.url));

export interface ConsoleInBrowser {
  /** The relay serving the console, for the whole test file. */
  readonly runtime: LocalRuntime;
  /** This test's page. */
  readonly page: Page;
  /** What the page reported so far in this test: script errors, and any refusal by its Content-Security-Policy. */
  readonly pageProblems: readonly string[];
  /** Saves the whole page as test-artifacts/e2e/<name>.png. */
  shoot(name: string): Promise<void>;
  /** The screen's title. */
  heading(name: string | RegExp): Locator;
  /** The page ran without script errors or policy refusals, but for the problems a test expects. */
  expectCleanPage(allowed?: RegExp[]): void;
}

/**
 * For a test file: builds the console, starts a runtime serving it and launches Chromium once;
 * opens a page per test. The file's own afterEach hooks run before the page is closed.
 */
export function useConsoleInBrowser(options: LocalRuntimeOptions = {}): ConsoleInBrowser {
  let runtime: LocalRuntime | undefined;
  let browser: Browser | undefined;
  let consoleDir: string | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let problems: string[] = [];

  beforeAll(async () => {
    consoleDir = await buildConsole(await mkdtemp(join(tmpdir(), 'assist-console-')));
    runtime = await startLocalRuntime({ port: 0, ...options, console: loadConsoleSite(consoleDir) });
    browser = await chromium.launch({ executablePath: chromiumPath });
    await mkdir(screenshots, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.close();
    if (consoleDir) await rm(consoleDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const opened = await context.newPage();
    opened.setDefaultTimeout(15_000);
    problems = [];
    opened.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    opened.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page = opened;
  });

  // Registered before the test file's own hooks, so (vitest runs after-hooks in reverse) it runs after them.
  afterEach(async () => {
    await context?.close();
    context = page = undefined;
  });

  const current = () => {
    if (!page) throw new Error('no page: the browser is used outside a test');
    return page;
  };
  return {
    get runtime() {
      if (!runtime) throw new Error('the local runtime has not started');
      return runtime;
    },
    get page() {
      return current();
    },
    get pageProblems() {
      return problems;
    },
    shoot: async (name) => {
      await current().screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
    },
    heading: (name) => current().getByRole('heading', { level: 1, name }),
    expectCleanPage: (allowed = []) => expect(problems.filter((problem) => !allowed.some((pattern) => pattern.test(problem)))).toEqual([]),
  };
}

/** The digits of a code as shown (`123 456` → `123456`). */
export const digits = (text: string | null) => (text ?? '').replace(/\D/g, '');

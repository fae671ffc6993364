// The web console in headless Chromium against the local runtime. The console is built here, into a
// temporary folder, so `npm test` needs no build step. Each test gets a fresh browser context and
// page, and may open more contexts (another person's browser) with pages of their own; what any of
// them reports (script errors, policy refusals) is collected for expectCleanPage. Screenshots go to
// test-artifacts/e2e/.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../infra/local/runtime.js';
import { buildConsole } from '../../web/build/build.js';
import { loadConsoleSite } from '../../web/server/console-site.js';
import { chromiumPath } from './chromium.js';

const screenshots = fileURLToPath(new URL('../../test-artifacts/e2e/', import.meta.url));

export interface ConsoleInBrowserOptions extends LocalRuntimeOptions {
  /** Chromium command-line switches, for the whole file. */
  launchArgs?: readonly string[];
}

export interface ConsoleInBrowser {
  /** The relay serving the console, for the whole test file. */
  readonly runtime: LocalRuntime;
  /** This test's page. */
  readonly page: Page;
  /** What the pages reported so far in this test: script errors, and any refusal by their Content-Security-Policy. */
  readonly pageProblems: readonly string[];
  /** Another browser for this test (a context of its own: storage, permissions, init scripts), closed after it. */
  openContext(): Promise<BrowserContext>;
  /** A page in `context`; what it reports joins pageProblems as `<who>: <problem>`. */
  newPage(context: BrowserContext, who: string): Promise<Page>;
  /** Saves the whole page (this test's, unless another is given) as test-artifacts/e2e/<name>.png. */
  shoot(name: string, page?: Page): Promise<void>;
  /** The screen's title on the page (this test's, unless another is given). */
  heading(name: string | RegExp, page?: Page): Locator;
  /** The pages ran without script errors or policy refusals, but for the problems a test expects. */
  expectCleanPage(allowed?: RegExp[]): void;
  /** Ada Lovelace asks for help on /help (in this test's page, unless another is given); the Easy Connect password she reads out. */
  askForHelp(page?: Page): Promise<string>;
}

/**
 * For a test file: builds the console, starts a runtime serving it and launches Chromium once;
 * opens a page per test. The file's own afterEach hooks run before the test's contexts are closed.
 */
export function useConsoleInBrowser({ launchArgs = [], ...runtimeOptions }: ConsoleInBrowserOptions = {}): ConsoleInBrowser {
  let runtime: LocalRuntime | undefined;
  let browser: Browser | undefined;
  let consoleDir: string | undefined;
  let contexts: BrowserContext[] = [];
  let page: Page | undefined;
  let problems: string[] = [];

  beforeAll(async () => {
    consoleDir = await buildConsole(await mkdtemp(join(tmpdir(), 'assist-console-')));
    runtime = await startLocalRuntime({ port: 0, ...runtimeOptions, console: loadConsoleSite(consoleDir) });
    browser = await chromium.launch({ executablePath: chromiumPath, args: [...launchArgs] });
    await mkdir(screenshots, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.close();
    if (consoleDir) await rm(consoleDir, { recursive: true, force: true });
  });

  const openContext = async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    return context;
  };

  /** `label` prefixes what the page reports, so that several pages' problems tell which said what. */
  const watchedPage = async (context: BrowserContext, label: string) => {
    const opened = await context.newPage();
    opened.setDefaultTimeout(15_000);
    opened.on('pageerror', (error) => problems.push(`${label}page error: ${error.message}`));
    opened.on('console', (message) => {
      if (message.type() === 'error') problems.push(`${label}console: ${message.text()}`);
    });
    return opened;
  };

  beforeEach(async () => {
    problems = [];
    page = await watchedPage(await openContext(), '');
  });

  // Registered before the test file's own hooks, so (vitest runs after-hooks in reverse) it runs after them.
  afterEach(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    contexts = [];
    page = undefined;
  });

  const current = () => {
    if (!page) throw new Error('no page: the browser is used outside a test');
    return page;
  };
  const heading = (name: string | RegExp, on = current()) => on.getByRole('heading', { level: 1, name });
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
    openContext,
    newPage: (context, who) => watchedPage(context, `${who}: `),
    shoot: async (name, on = current()) => {
      await on.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
    },
    heading,
    askForHelp: async (on = current()) => {
      await on.goto(`${runtime!.httpUrl}/help`);
      const ask = on.getByRole('form', { name: 'Ask for help' });
      await ask.getByLabel('Your name').fill('Ada Lovelace');
      await ask.getByRole('button', { name: 'Create the invitation' }).click();
      await heading('Read this password to the technician', on).waitFor();
      return (await on.locator('.big-code').textContent())!;
    },
    expectCleanPage: (allowed = []) => expect(problems.filter((problem) => !allowed.some((pattern) => pattern.test(problem)))).toEqual([]),
  };
}

/** The digits of a code as shown (`123 456` → `123456`). */
export const digits = (text: string | null) => (text ?? '').replace(/\D/g, '');

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalRuntime, type LocalRuntime } from '../../infra/local/runtime.js';
import { acceptHelp, joinHelp, offerHelp, requestHelp, type AgentSession, type ExpertSession, type HelpRequest } from '../../sdk/node.js';
import { buildConsole } from '../../web/build/build.js';
import { loadConsoleSite } from '../../web/server/console-site.js';
import { fastAssistOptions, record, utf8, type Recorded } from '../support/assist.js';
import { until } from '../support/harness.js';

// The web console in headless Chromium against the local runtime, with the other side driven by the
// SDK in this process: the same code the CLI runs (swap in the CLI once it lands). The console is
// built here, into a temporary folder, so `npm test` needs no build step. Screenshots of the main
// screens go to test-artifacts/e2e/.

/** Debian's package (`apt-get install chromium`); CHROMIUM_PATH points elsewhere. */
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const screenshots = fileURLToPath(new URL('../../test-artifacts/e2e/', import.meta.url));

let runtime: LocalRuntime;
let browser: Browser;
let consoleDir: string;

beforeAll(async () => {
  consoleDir = await buildConsole(await mkdtemp(join(tmpdir(), 'assist-console-')));
  runtime = await startLocalRuntime({ port: 0, console: loadConsoleSite(consoleDir) });
  browser = await chromium.launch({ executablePath: chromiumPath });
  await mkdir(screenshots, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await runtime?.close();
  if (consoleDir) await rm(consoleDir, { recursive: true, force: true });
});

let context: BrowserContext;
let page: Page;
/** What the page reported: script errors, and any refusal by its Content-Security-Policy. */
let pageProblems: string[];
/** Sessions the SDK opened in a test, ended afterwards so the next test starts clean. */
let sdkSessions: Array<AgentSession | ExpertSession>;

beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  pageProblems = [];
  page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') pageProblems.push(`console: ${message.text()}`);
  });
  sdkSessions = [];
});

afterEach(async () => {
  // The SDK's sides first, while the page is still there to acknowledge their last frames.
  await Promise.all(sdkSessions.map((session) => (session.phase === 'ended' ? undefined : session.client.end())));
  await context.close();
});

/** The page ran without script errors or policy refusals (the 404 of an expired link is expected where a test says so). */
function expectCleanPage(allowed: RegExp[] = []): void {
  expect(pageProblems.filter((problem) => !allowed.some((pattern) => pattern.test(problem)))).toEqual([]);
}

const shoot = (name: string) => page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name });
const digits = (text: string | null) => (text ?? '').replace(/\D/g, '');

/** Resolves once the relay answers 404 for the invitation's page: it has expired. */
async function untilGone(joinUrl: string): Promise<void> {
  for (const deadline = Date.now() + 20_000; (await fetch(joinUrl)).status !== 404; await new Promise((resolve) => setTimeout(resolve, 100))) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the invitation to expire');
  }
}

async function askForHelp(kind: 'file' | 'easy-connect', extra: { invitationTtlSeconds?: number } = {}): Promise<{ help: HelpRequest; seen: Recorded }> {
  const help = await requestHelp({ relay: runtime.httpUrl, kind, name: 'Ada Lovelace', ...fastAssistOptions, ...extra });
  sdkSessions.push(help);
  return { help, seen: record(help) };
}

/** The person's side waits for the technician, checks nothing, and lets them in (as the CLI would after its prompt). */
async function expertThrough(help: AgentSession, seen: Recorded): Promise<string> {
  await until(() => help.phase === 'deciding', 'the technician to get through the handshake');
  expect(seen.log).toContain(`expert ${JSON.stringify({ name: 'Grace Hopper', verificationCode: help.expert!.verificationCode })}`);
  return help.expert!.verificationCode;
}

describe('the technician in the browser', () => {
  it('joins by relay URL + password, sees the code the person sees, the terminal and the chat, gets control, and is told when the person ends', async () => {
    const { help, seen } = await askForHelp('file');
    if (help.invitation.kind !== 'file') throw new Error('a file invitation was asked for');

    await page.goto(help.invitation.relayUrl);
    await heading('Someone asked you for help').waitFor();
    await shoot('technician-1-join');
    await page.getByLabel('Your name').fill('Grace Hopper');
    await page.getByLabel('Password', { exact: true }).fill(help.invitation.password.toLowerCase());
    await page.getByRole('button', { name: 'Connect' }).click();

    await heading('Read this code to the person').waitFor();
    const shownCode = digits(await page.locator('.big-code').textContent());
    expect(shownCode).toBe(await expertThrough(help, seen));
    await page.getByRole('status').getByText('Waiting for Ada Lovelace to let you in…').waitFor();
    await shoot('technician-2-verification');

    await help.approve('view');
    await help.sendResize(72, 16);
    await help.sendOutput(utf8('\x1b[32m$ uptime\x1b[0m\r\n 10:00 up 3 days, load 0.42\r\n'));
    await heading('Helping Ada Lovelace').waitFor();
    await page.locator('.xterm-rows').getByText('10:00 up 3 days, load 0.42').waitFor();
    await page.getByText('You are helping Ada Lovelace (view only).').waitFor();
    await page.getByText(/^Time left: 1 h 5\d min$/).waitFor();

    await page.getByLabel('Message to Ada Lovelace').fill('I see the uptime; may I look at the logs?');
    await page.getByLabel('Message to Ada Lovelace').press('Enter');
    await until(() => seen.log.includes('chat I see the uptime; may I look at the logs?'), 'the person to get the chat message');
    await help.chat('Yes, go ahead.');
    await page.getByRole('log').getByText('Yes, go ahead.').waitFor();

    await page.getByRole('button', { name: 'Ask for control' }).click();
    await until(() => seen.log.includes('control-requested'), 'the control request');
    await help.grantControl();
    await page.getByText('Ada Lovelace gave you control.').waitFor();
    await page.getByRole('button', { name: 'Ask for control' }).waitFor({ state: 'hidden' });
    await page.locator('.xterm-screen').click();
    await page.keyboard.type('ls');
    await page.keyboard.press('Enter');
    await until(() => seen.log.filter((line) => line.startsWith('input ')).join('').replace(/input /g, '') === 'ls\r', 'the keystrokes to arrive');
    // Tab goes to the shell; Shift+Tab leaves the terminal, so the keyboard is never trapped.
    const inTerminal = () => page.evaluate(() => Boolean(document.activeElement?.closest('.terminal-screen')));
    expect(await inTerminal()).toBe(true);
    await page.keyboard.press('Tab');
    expect(await inTerminal()).toBe(true);
    await page.keyboard.press('Shift+Tab');
    expect(await inTerminal()).toBe(false);
    await until(() => seen.log.filter((line) => line.startsWith('input ')).join('').replace(/input /g, '') === 'ls\r\t', 'the Tab to arrive');
    await shoot('technician-3-session');

    await help.end();
    await heading('The session has ended').waitFor();
    await page.getByText('The person you were helping ended the session.').waitFor();
    await shoot('technician-4-ended');
    expectCleanPage();
  });

  it('types an Easy Connect password on the start page, and leaving ends the session for both', async () => {
    const { help, seen } = await askForHelp('easy-connect');
    await page.goto(`${runtime.httpUrl}/`);
    await heading('Assist Relay').waitFor();
    const form = page.getByRole('form', { name: 'Help someone' });
    await form.getByLabel('Your name').fill('Grace Hopper');
    // As read over the phone: lower case, spaces instead of dashes.
    await form.getByLabel('Easy Connect password or invitation link').fill(help.invitation.password.toLowerCase().replace(/-/g, ' '));
    await shoot('technician-start-page');
    await form.getByRole('button', { name: 'Connect' }).click();

    await heading('Read this code to the person').waitFor();
    expect(digits(await page.locator('.big-code').textContent())).toBe(await expertThrough(help, seen));
    await help.approve('view');
    await heading('Helping Ada Lovelace').waitFor();
    await page.getByText('Nothing from the person’s terminal yet.').waitFor();

    await page.getByRole('button', { name: 'Leave the session' }).click();
    await heading('The session has ended').waitFor();
    await page.getByText('You ended the session.').waitFor();
    await until(() => seen.ended !== undefined, 'the person to learn the session ended');
    expect(seen.ended!.reason).toBe('ended-by-expert');
    expectCleanPage();
  });

  it('is told a wrong password plainly, may try again, and the person sees the failed attempt', async () => {
    const { help, seen } = await askForHelp('file');
    if (help.invitation.kind !== 'file') throw new Error('a file invitation was asked for');
    await page.goto(help.invitation.relayUrl);
    await page.getByLabel('Your name').fill('Grace Hopper');
    const password = page.getByLabel('Password', { exact: true });
    await password.fill(help.invitation.password === 'AAAA-AAAA' ? 'BBBB-BBBB' : 'AAAA-AAAA');
    await page.getByRole('button', { name: 'Connect' }).click();

    await page.getByText('The password did not match. Check it with the person and try again.').waitFor();
    // The form again, the name kept; the password field is marked, described by the message, and focused.
    expect(await page.getByLabel('Your name').inputValue()).toBe('Grace Hopper');
    expect(await password.getAttribute('aria-invalid')).toBe('true');
    expect(await password.evaluate((input) => input === document.activeElement)).toBe(true);
    expect(await page.locator(`#${(await password.getAttribute('aria-describedby'))!.split(' ').join(', #')}`).allTextContents()).toContain(
      'The password did not match. Check it with the person and try again.',
    );
    await shoot('technician-wrong-password');
    await until(() => seen.log.some((line) => line.startsWith('attempt-failed')), 'the person to see the failed attempt');
    expect(seen.log).toContain('attempt-failed {"failedAttempts":1,"maxFailedAttempts":3,"burned":false}');

    await password.fill(help.invitation.password);
    await page.getByRole('button', { name: 'Connect' }).click();
    await heading('Read this code to the person').waitFor();
    expect(digits(await page.locator('.big-code').textContent())).toBe(await expertThrough(help, seen));
    expectCleanPage();
  });

  it('gets the relay’s “expired” answer for an expired link, and a plain message if it expires while the page is open', async () => {
    const { help } = await askForHelp('file', { invitationTtlSeconds: 3 });
    if (help.invitation.kind !== 'file') throw new Error('a file invitation was asked for');
    await page.goto(help.invitation.relayUrl);
    await heading('Someone asked you for help').waitFor();
    const joinPath = `${runtime.httpUrl}${new URL(help.invitation.relayUrl).pathname}`;
    await untilGone(joinPath);

    await page.getByLabel('Your name').fill('Grace Hopper');
    await page.getByLabel('Password', { exact: true }).fill(help.invitation.password);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('alert').getByText('This invitation has expired, was used or withdrawn, or does not exist. Ask for a new one.').waitFor();
    await shoot('technician-expired-while-open');

    const response = await page.reload();
    expect(response?.status()).toBe(404);
    await heading('This invitation has expired or does not exist').waitFor();
    await shoot('technician-expired-link');
    expectCleanPage([/status of 404/]);
  });
});

describe('the person in the browser', () => {
  it('asks for help with the keyboard only, sees who connects and the code, lets them in, chats and ends', async () => {
    await page.goto(`${runtime.httpUrl}/help`);
    await heading('Get help from a technician').waitFor();
    await shoot('person-1-help-page');
    // Focus starts on the heading; Tab order: name, the kind (Easy Connect is chosen), the button.
    await page.keyboard.press('Tab');
    await page.keyboard.type('Ada Lovelace');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');

    await heading('Read this password to the technician').waitFor();
    const password = (await page.locator('.big-code').textContent())!;
    await shoot('person-2-easy-connect-password');
    const expert = await joinHelp({ relay: runtime.httpUrl, invitation: password, name: 'Grace Hopper', ...fastAssistOptions });
    sdkSessions.push(expert);
    const seen = record(expert);

    await heading('Grace Hopper wants to help you').waitFor();
    await until(() => expert.verificationCode !== undefined, 'the technician’s verification code');
    expect(digits(await page.locator('.big-code').textContent())).toBe(expert.verificationCode);
    await shoot('person-3-decide');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Let them in');
    await page.keyboard.press('Enter');

    await heading('Grace Hopper is helping you').waitFor();
    await until(() => expert.phase === 'active', 'the technician to be let in');
    expect(seen.log).toContain('approved {"mode":"view"}');
    await expert.chat('Hello Ada, what is the problem?');
    await page.getByRole('log').getByText('Hello Ada, what is the problem?').waitFor();
    await page.keyboard.press('Tab'); // End the session
    await page.keyboard.press('Tab'); // the message field
    await page.keyboard.type('The printer is offline.');
    await page.keyboard.press('Enter');
    await until(() => seen.log.includes('chat The printer is offline.'), 'the technician to get the reply');
    await shoot('person-4-session');

    await page.getByRole('button', { name: 'End the session' }).focus();
    await page.keyboard.press('Enter');
    await heading('The session has ended').waitFor();
    await page.getByText('You ended the session.').waitFor();
    await until(() => seen.ended !== undefined, 'the technician to learn the session ended');
    expect(seen.ended!.reason).toBe('ended-by-agent');
    expectCleanPage();
  });

  it('sends a link by the relay’s email, and refusing a technician ends the invitation', async () => {
    await page.goto(`${runtime.httpUrl}/help`);
    const ask = page.getByRole('form', { name: 'Ask for help' });
    await ask.getByLabel('Your name').fill('Ada Lovelace');
    await ask.getByLabel('I will send them a link, by email or message').check();
    await ask.getByRole('button', { name: 'Create the invitation' }).click();

    await heading('Send this invitation to the technician').waitFor();
    const link = await page.getByLabel('Link').inputValue();
    const password = (await page.locator('.big-code').textContent())!;
    expect(link).toMatch(new RegExp(`^${runtime.httpUrl}/join/[0-9A-Z]{4}#[0-9A-Z]{26}$`));
    await page.getByLabel('Technician’s email address').fill('grace@example.org');
    await page.getByRole('button', { name: 'Email the invitation' }).click();
    await page.getByText('Sent to grace@example.org. Now tell them the password.').waitFor();
    const [email] = await runtime.outbox.messages();
    expect(email?.to).toBe('grace@example.org');
    await shoot('person-file-invitation');

    const expert = await joinHelp({ relay: runtime.httpUrl, invitation: link, password, name: 'Grace Hopper', ...fastAssistOptions });
    sdkSessions.push(expert);
    const seen = record(expert);
    await heading('Grace Hopper wants to help you').waitFor();
    await page.getByRole('button', { name: 'Refuse' }).click();
    await heading('The session has ended').waitFor();
    await page.getByText('You did not let the technician in.').waitFor();
    await until(() => seen.ended !== undefined, 'the technician to be refused');
    expect(seen.log).toContain('denied');
    expect(seen.ended!.reason).toBe('denied');
    expectCleanPage();
  });

  it('withdraws an invitation: the link then gets the relay’s “expired or unknown” answer', async () => {
    await page.goto(`${runtime.httpUrl}/help`);
    const ask = page.getByRole('form', { name: 'Ask for help' });
    await ask.getByLabel('Your name').fill('Ada Lovelace');
    await ask.getByRole('button', { name: 'Create the invitation' }).click();
    await heading('Read this password to the technician').waitFor();
    const nameplate = (await page.locator('.big-code').textContent())!.slice(0, 4);
    expect((await fetch(`${runtime.httpUrl}/join/${nameplate}`)).status).toBe(200);
    await page.getByRole('button', { name: 'Withdraw the invitation' }).click();
    await heading('The session has ended').waitFor();
    await page.getByText('You withdrew the invitation.').waitFor();
    expect((await fetch(`${runtime.httpUrl}/join/${nameplate}`)).status).toBe(404);
    expectCleanPage();
  });
});

describe('helper codes (the technician gives the person a code)', () => {
  it('the technician creates a code in the browser, the person types it, both see the same verification code', async () => {
    await page.goto(`${runtime.httpUrl}/`);
    const offer = page.getByRole('form', { name: 'Create a helper code' });
    await offer.getByLabel('Your name').fill('Grace Hopper');
    await offer.getByRole('button', { name: 'Create a helper code' }).click();
    await heading('Read this code to the person').waitFor();
    const code = (await page.locator('.big-code').textContent())!;
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    await shoot('technician-helper-code');

    const person = await acceptHelp({ relay: runtime.httpUrl, code, name: 'Ada Lovelace', ...fastAssistOptions });
    sdkSessions.push(person);
    const seen = record(person);
    await expertThrough(person, seen);
    // The code on the page changes from the helper code to the six-digit verification code.
    await page.locator('.big-code', { hasText: /^\d{3} \d{3}$/ }).waitFor();
    expect(digits(await page.locator('.big-code').textContent())).toBe(person.expert!.verificationCode);

    await person.approve('control');
    await person.sendOutput(utf8('C:\\> dir\r\n'));
    await heading('Helping Ada Lovelace').waitFor();
    await page.getByText('You are helping Ada Lovelace and have control.').waitFor();
    await page.locator('.xterm-rows').getByText('C:\\> dir').waitFor();
    await page.getByRole('button', { name: 'Leave the session' }).click();
    await heading('The session has ended').waitFor();
    await until(() => seen.ended !== undefined, 'the person to learn the technician left');
    expect(seen.ended!.reason).toBe('ended-by-expert');
    expectCleanPage();
  });

  it('the person types a technician’s code at its /join/<nameplate> page, sees the verification code, lets them in', async () => {
    const offer = await offerHelp({ relay: runtime.httpUrl, name: 'Grace Hopper', ...fastAssistOptions });
    sdkSessions.push(offer);
    const seen = record(offer);
    await page.goto(`${runtime.httpUrl}/join/${offer.code.slice(0, 4)}`);
    await heading('A technician offered to help you').waitFor();
    await page.getByLabel('Your name').fill('Ada Lovelace');
    const code = page.getByLabel('Code', { exact: true });
    expect(await code.inputValue()).toBe(`${offer.code.slice(0, 4)}-`); // the nameplate, from the link
    await code.press('Enter');
    await page.getByRole('alert').getByText('The code has 4 symbols; expected 12, written XXXX-XXXX-XXXX.').waitFor();
    await code.fill(offer.code.toLowerCase());
    await code.press('Enter');
    await heading('Grace Hopper wants to help you').waitFor();
    await until(() => offer.verificationCode !== undefined, 'the technician’s verification code');
    expect(digits(await page.locator('.big-code').textContent())).toBe(offer.verificationCode);
    await page.getByRole('button', { name: 'Let them in' }).click();
    await heading('Grace Hopper is helping you').waitFor();
    await until(() => seen.log.includes('approved {"mode":"view"}'), 'the technician to be let in');
    expectCleanPage();
  });
});

describe('what the page may do', () => {
  it('runs no inline script and connects nowhere but the relay (Content-Security-Policy)', async () => {
    const response = await page.goto(`${runtime.httpUrl}/help`);
    expect(response?.headers()['content-security-policy']).toContain(`connect-src 'self' ${runtime.wsUrl};`);
    await heading('Get help from a technician').waitFor();
    const refused = await page.evaluate(async () => {
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (event) => violations.push(event.effectiveDirective));
      const elsewhere = await fetch('https://relay.example.org/relay.json').then(
        () => 'fetched',
        () => 'refused',
      );
      let inline: string;
      try {
        const script = document.createElement('script');
        script.textContent = 'window.inlineRan = true';
        document.head.append(script);
        inline = 'inlineRan' in window ? 'ran' : 'did not run';
      } catch {
        inline = 'refused';
      }
      await new Promise((resolve) => setTimeout(resolve, 0)); // violation events are queued as tasks
      return { elsewhere, inline, violations };
    });
    expect(refused.elsewhere).toBe('refused');
    expect(refused.inline).not.toBe('ran');
    expect(refused.violations).toContain('connect-src');
    expect(pageProblems.length).toBeGreaterThan(0); // Chromium reports each refusal on the console
  });

  it('cannot reach the relay from a page the relay did not serve: $connect refuses other browser origins', async () => {
    const opened = (origin?: string) =>
      new Promise<string>((resolve) => {
        const socket = new WebSocket(runtime.wsUrl, origin === undefined ? {} : { origin });
        socket.on('open', () => (socket.close(), resolve('open')));
        socket.on('unexpected-response', (_request, response) => resolve(`refused ${response.statusCode}`));
      });
    expect(await opened('https://elsewhere.example')).toBe('refused 403');
    expect(await opened(new URL(runtime.httpUrl).origin)).toBe('open');
    expect(await opened()).toBe('open'); // the CLI and the SDK in Node send no Origin

    // The same console under another name for this machine is another origin to the browser.
    await page.goto(`${runtime.httpUrl.replace('127.0.0.1', 'localhost')}/help`);
    const ask = page.getByRole('form', { name: 'Ask for help' });
    await ask.getByLabel('Your name').fill('Ada Lovelace');
    await ask.getByRole('button', { name: 'Create the invitation' }).click();
    await ask.getByRole('alert').getByText('Could not connect to the relay', { exact: false }).waitFor();
    expectCleanPage([/Unexpected response code: 403/]);
  });

  it('refuses a bundle changed after the build (subresource integrity)', async () => {
    await page.route('**/assets/console-*.js', async (route) => {
      const original = await route.fetch();
      await route.fulfill({ response: original, body: `${await original.text()}\ndocument.title = 'changed';` });
    });
    const refusal = page.waitForEvent('console', (message) => message.type() === 'error' && /integrity/i.test(message.text()));
    await page.goto(`${runtime.httpUrl}/help`);
    await refusal;
    expect(await page.locator('#app').textContent()).toBe('Loading…');
    expect(await page.title()).toBe('Assist Relay');
  });
});

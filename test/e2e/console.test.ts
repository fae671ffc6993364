import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acceptHelp, joinHelp, offerHelp, type AgentSession, type ExpertSession } from '../../sdk/node.js';
import { fastAssistOptions, record, utf8, type Recorded } from '../support/assist.js';
import { digits, useConsoleInBrowser } from '../support/browser.js';
import { until } from '../support/harness.js';

// The web console in headless Chromium against the local runtime, with the other side driven by the
// SDK in this process: the person asking for help in the browser, helper codes both ways, and what
// the page may do. The technician in the browser with the CLI as the person is cli-agent.test.ts.
// Screenshots of the main screens go to test-artifacts/e2e/.

const web = useConsoleInBrowser();
const { shoot, heading, expectCleanPage } = web;

let page: Page;
/** Sessions the SDK opened in a test, ended afterwards so the next test starts clean. */
let sdkSessions: Array<AgentSession | ExpertSession>;

beforeEach(() => {
  page = web.page;
  sdkSessions = [];
});

afterEach(async () => {
  // While the page is still there to acknowledge their last frames (it is closed after this file's hooks).
  await Promise.all(sdkSessions.map((session) => (session.phase === 'ended' ? undefined : session.client.end())));
});

/** The person's side waits for the technician, checks nothing, and lets them in (as the CLI would after its prompt). */
async function expertThrough(help: AgentSession, seen: Recorded): Promise<string> {
  await until(() => help.phase === 'deciding', 'the technician to get through the handshake');
  expect(seen.log).toContain(`expert ${JSON.stringify({ name: 'Grace Hopper', verificationCode: help.expert!.verificationCode })}`);
  return help.expert!.verificationCode;
}

describe('the person in the browser', () => {
  it('asks for help with the keyboard only, sees who connects and the code, lets them in, chats and ends', async () => {
    await page.goto(`${web.runtime.httpUrl}/help`);
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
    const expert = await joinHelp({ relay: web.runtime.httpUrl, invitation: password, name: 'Grace Hopper', ...fastAssistOptions });
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
    await page.goto(`${web.runtime.httpUrl}/help`);
    const ask = page.getByRole('form', { name: 'Ask for help' });
    await ask.getByLabel('Your name').fill('Ada Lovelace');
    await ask.getByLabel('I will send them a link, by email or message').check();
    await ask.getByRole('button', { name: 'Create the invitation' }).click();

    await heading('Send this invitation to the technician').waitFor();
    const link = await page.getByLabel('Link').inputValue();
    const password = (await page.locator('.big-code').textContent())!;
    expect(link).toMatch(new RegExp(`^${web.runtime.httpUrl}/join/[0-9A-Z]{4}#[0-9A-Z]{26}$`));
    await page.getByLabel('Technician’s email address').fill('grace@example.org');
    await page.getByRole('button', { name: 'Email the invitation' }).click();
    await page.getByText('Sent to grace@example.org. Now tell them the password.').waitFor();
    const [email] = await web.runtime.outbox.messages();
    expect(email?.to).toBe('grace@example.org');
    await shoot('person-file-invitation');

    const expert = await joinHelp({ relay: web.runtime.httpUrl, invitation: link, password, name: 'Grace Hopper', ...fastAssistOptions });
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
    await page.goto(`${web.runtime.httpUrl}/help`);
    const ask = page.getByRole('form', { name: 'Ask for help' });
    await ask.getByLabel('Your name').fill('Ada Lovelace');
    await ask.getByRole('button', { name: 'Create the invitation' }).click();
    await heading('Read this password to the technician').waitFor();
    const nameplate = (await page.locator('.big-code').textContent())!.slice(0, 4);
    expect((await fetch(`${web.runtime.httpUrl}/join/${nameplate}`)).status).toBe(200);
    await page.getByRole('button', { name: 'Withdraw the invitation' }).click();
    await heading('The session has ended').waitFor();
    await page.getByText('You withdrew the invitation.').waitFor();
    expect((await fetch(`${web.runtime.httpUrl}/join/${nameplate}`)).status).toBe(404);
    expectCleanPage();
  });
});

describe('helper codes (the technician gives the person a code)', () => {
  it('the technician creates a code in the browser, the person types it, both see the same verification code', async () => {
    await page.goto(`${web.runtime.httpUrl}/`);
    const offer = page.getByRole('form', { name: 'Create a helper code' });
    await offer.getByLabel('Your name').fill('Grace Hopper');
    await offer.getByRole('button', { name: 'Create a helper code' }).click();
    await heading('Read this code to the person').waitFor();
    const code = (await page.locator('.big-code').textContent())!;
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    await shoot('technician-helper-code');

    const person = await acceptHelp({ relay: web.runtime.httpUrl, code, name: 'Ada Lovelace', ...fastAssistOptions });
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
    const offer = await offerHelp({ relay: web.runtime.httpUrl, name: 'Grace Hopper', ...fastAssistOptions });
    sdkSessions.push(offer);
    const seen = record(offer);
    await page.goto(`${web.runtime.httpUrl}/join/${offer.code.slice(0, 4)}`);
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
    const response = await page.goto(`${web.runtime.httpUrl}/help`);
    expect(response?.headers()['content-security-policy']).toContain(`connect-src 'self' ${web.runtime.wsUrl};`);
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
    expect(web.pageProblems.length).toBeGreaterThan(0); // Chromium reports each refusal on the console
  });

  it('cannot reach the relay from a page the relay did not serve: $connect refuses other browser origins', async () => {
    const opened = (origin?: string) =>
      new Promise<string>((resolve) => {
        const socket = new WebSocket(web.runtime.wsUrl, origin === undefined ? {} : { origin });
        socket.on('open', () => (socket.close(), resolve('open')));
        socket.on('unexpected-response', (_request, response) => resolve(`refused ${response.statusCode}`));
      });
    expect(await opened('https://elsewhere.example')).toBe('refused 403');
    expect(await opened(new URL(web.runtime.httpUrl).origin)).toBe('open');
    expect(await opened()).toBe('open'); // the CLI and the SDK in Node send no Origin

    // The same console under another name for this machine is another origin to the browser.
    await page.goto(`${web.runtime.httpUrl.replace('127.0.0.1', 'localhost')}/help`);
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
    await page.goto(`${web.runtime.httpUrl}/help`);
    await refusal;
    expect(await page.locator('#app').textContent()).toBe('Loading…');
    expect(await page.title()).toBe('Assist Relay');
  });
});

// The technician in the browser, the person at a terminal: `assist invite … --json` runs as a child
// process and shares a real program, the web console joins from headless Chromium, both against
// the local runtime. Every wait is for a CLI event or for something on the page. Screenshots of the
// technician's screens go to test-artifacts/e2e/.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { readOutboxMessage } from '../../infra/local/mail-outbox.js';
import { digits, useConsoleInBrowser } from '../support/browser.js';
import { expectCleanExit, hangUpAfterEnd, useAssist, type AssistProcess } from '../support/cli.js';

// Expiry is noticed by the sweep; a fast one lets the expiry test wait for the CLI's event alone.
const web = useConsoleInBrowser({ sweepIntervalMs: 200 });
const { assist } = useAssist(() => web.runtime.httpUrl);
const { shoot, heading, expectCleanPage } = web;

let page: Page;
beforeEach(() => {
  page = web.page;
});

/**
 * The shared program: first a line only a shell running it can print (the sum is not in the
 * command), then `cat -A`, which prints each line it reads with every byte visible: a tab as `^I`,
 * an escape as `^[`, the line's end as `$`.
 */
const SHARED = ['--command', 'echo "shared terminal ready: $((6*7))"; exec cat -A'];
const PERSON = ['--name', 'Ada Lovelace'];

async function inviteByFile(...options: string[]): Promise<{ agent: AssistProcess; url: string; password: string }> {
  const agent = assist('invite', '--file', await mkdtemp(join(tmpdir(), 'assist-e2e-')), ...PERSON, ...options);
  const invitation = await agent.next('invitation');
  expect(invitation).toMatchObject({ kind: 'file', url: expect.stringMatching(new RegExp(`^${web.runtime.httpUrl}/join/[0-9A-Z]{4}#[0-9A-Z]{26}$`)) });
  return { agent, url: invitation.url as string, password: invitation.password as string };
}

/** The technician's page shows the verification code the CLI reports, for the technician the CLI names. */
async function sameVerificationCode(agent: AssistProcess): Promise<void> {
  await heading('Read this code to the person').waitFor();
  const connected = await agent.next('connected');
  expect(connected).toEqual({ event: 'connected', peer: 'Grace Hopper', verification: expect.stringMatching(/^\d{6}$/) });
  expect(digits(await page.locator('.big-code').textContent())).toBe(connected.verification);
}

/** Waits until the person's terminal, as the CLI shows it, contains `text`. */
const agentSees = (agent: AssistProcess, text: string) => agent.next('output', () => agent.output.includes(text));
const terminalShows = (text: string) => page.locator('.xterm-rows').getByText(text).waitFor();

describe('a CLI agent invites, the technician joins in the browser', () => {
  it('by relay URL + password: the same code on both sides, the shared program’s output, chat both ways, control, and the person ends', async () => {
    const { agent, url, password } = await inviteByFile(...SHARED);
    await page.goto(url);
    await heading('Someone asked you for help').waitFor();
    await shoot('technician-1-join');
    await page.getByLabel('Your name').fill('Grace Hopper');
    await page.getByLabel('Password', { exact: true }).fill(password.toLowerCase());
    await page.getByRole('button', { name: 'Connect' }).click();

    await sameVerificationCode(agent);
    await page.getByRole('status').getByText('Waiting for Ada Lovelace to let you in…').waitFor();
    await shoot('technician-2-verification');

    agent.send({ cmd: 'approve', mode: 'view' });
    expect(await agent.next('approved')).toEqual({ event: 'approved', mode: 'view' });
    await heading('Helping Ada Lovelace').waitFor();
    await page.getByText('You are helping Ada Lovelace (view only).').waitFor();
    await page.getByText(/^Time left: 1 h 5\d min$/).waitFor();
    // The person adds time: the technician's page follows and says so.
    agent.send({ cmd: 'extend' });
    await page.getByText(/^Time left: 2 h 2\d min$/).waitFor();
    await page.getByRole('log').getByText(/^Ada Lovelace added time: the session can now last until /).waitFor();
    await terminalShows('shared terminal ready: 42');
    // The person's terminal grows; the technician's follows, row for row.
    agent.send({ cmd: 'resize', cols: 100, rows: 30 });
    await page.waitForFunction(() => document.querySelectorAll('.xterm-rows > div').length === 30);

    const message = page.getByLabel('Message to Ada Lovelace');
    await message.fill('I see your terminal; may I type in it?');
    await message.press('Enter');
    expect(await agent.next('chat')).toEqual({ event: 'chat', text: 'I see your terminal; may I type in it?' });
    agent.send({ cmd: 'chat', text: 'Yes, go ahead ✓' });
    await page.getByRole('log').getByText('Yes, go ahead ✓').waitFor();

    // Asked once, the button waits for the answer; a refusal says so and lets the technician ask again.
    await page.getByRole('button', { name: 'Ask for control' }).click();
    await agent.next('control-requested');
    await page.getByRole('button', { name: 'Ask for control' }).waitFor({ state: 'hidden' });
    await page.getByText('You asked for control: waiting for Ada Lovelace’s answer.').waitFor();
    agent.send({ cmd: 'refuse-control' });
    await page.getByText('Ada Lovelace said no to control: you can still watch, and ask again.').waitFor();
    await page.getByRole('button', { name: 'Ask for control' }).click();
    await agent.next('control-requested');
    agent.send({ cmd: 'grant-control' });
    await page.getByText('Ada Lovelace gave you control.').waitFor();
    await page.getByRole('button', { name: 'Ask for control' }).waitFor({ state: 'hidden' });
    await page.locator('.xterm-screen').click();
    await page.keyboard.type('ls');
    await page.keyboard.press('Enter');
    // The keys reached the shared program, which printed the line it read, on both screens.
    await agentSees(agent, 'ls$\r\n');
    await terminalShows('ls$');

    // Tab goes to the program; Shift+Tab leaves the terminal, so the keyboard is never trapped.
    const inTerminal = () => page.evaluate(() => Boolean(document.activeElement?.closest('.terminal-screen')));
    expect(await inTerminal()).toBe(true);
    await page.keyboard.press('Tab');
    expect(await inTerminal()).toBe(true);
    await page.keyboard.press('Shift+Tab');
    expect(await inTerminal()).toBe(false);
    await page.locator('.xterm-screen').click();
    await page.keyboard.press('Enter');
    // The program read the Tab and nothing from Shift+Tab (an escape sequence would show as ^[).
    await agentSees(agent, 'ls$\r\n\t\r\n^I$\r\n');
    expect(agent.output).not.toContain('^[');
    await terminalShows('^I$');
    await shoot('technician-3-session');

    agent.send({ cmd: 'end' });
    await heading('The session has ended').waitFor();
    await page.getByText('The person you were helping ended the session.').waitFor();
    await shoot('technician-4-ended');
    expect(await agent.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-agent' });
    await hangUpAfterEnd(agent);
    expectCleanPage();
  });

  it('by an Easy Connect password typed on the start page; leaving ends the session for both', async () => {
    const agent = assist('invite', '--easy-connect', ...PERSON, ...SHARED);
    const { password } = await agent.next('invitation');
    await page.goto(`${web.runtime.httpUrl}/`);
    await heading('Assist Relay').waitFor();
    const form = page.getByRole('form', { name: 'Help someone' });
    await form.getByLabel('Your name').fill('Grace Hopper');
    // As read over the phone: lower case, spaces instead of dashes.
    await form.getByLabel('Easy Connect password or invitation link').fill((password as string).toLowerCase().replace(/-/g, ' '));
    await shoot('technician-start-page');
    await form.getByRole('button', { name: 'Connect' }).click();

    await sameVerificationCode(agent);
    agent.send({ cmd: 'approve', mode: 'view' });
    await heading('Helping Ada Lovelace').waitFor();
    await terminalShows('shared terminal ready: 42');

    await page.getByRole('button', { name: 'Leave the session' }).click();
    await heading('The session has ended').waitFor();
    await page.getByText('You ended the session.').waitFor();
    expect(await agent.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-expert' });
    await hangUpAfterEnd(agent);
    expectCleanPage();
  });

  it('from the relay’s email: a wrong password is said plainly and counted on the CLI, the right one gets through, and the person says no', async () => {
    const agent = assist('invite', '--email', 'grace@example.org', ...PERSON, ...SHARED);
    const invitation = await agent.next('invitation');
    expect(invitation).toMatchObject({ kind: 'email', to: 'grace@example.org' });
    const [email] = await web.runtime.outbox.messages();
    expect(email?.to).toBe('grace@example.org');
    const link = /^https?:\/\/\S+$/m.exec((await readOutboxMessage(web.runtime.outbox.dir, email!.file)).text)?.[0];
    expect(link).toBe(invitation.url);

    await page.goto(link!);
    await page.getByLabel('Your name').fill('Grace Hopper');
    const password = page.getByLabel('Password', { exact: true });
    await password.fill(invitation.password === 'AAAA-AAAA' ? 'BBBB-BBBB' : 'AAAA-AAAA');
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
    expect(await agent.next('attempt-failed')).toEqual({ event: 'attempt-failed', failedAttempts: 1, maxFailedAttempts: 3 });

    await password.fill(invitation.password as string);
    await page.getByRole('button', { name: 'Connect' }).click();
    await sameVerificationCode(agent);
    agent.send({ cmd: 'deny' });
    await heading('The session has ended').waitFor();
    await page.getByText('The person did not let you in.').waitFor();
    expect(await agent.next('ended')).toEqual({ event: 'ended', reason: 'denied' });
    expect(agent.output).toBe(''); // the shared program never ran
    await expectCleanExit(agent, 0);
    expectCleanPage();
  });

  it('after the invitation expired: the open page says so plainly on joining, a reload asks for the link again (its secret is kept nowhere), and the CLI exits non-zero', async () => {
    // Long enough for the page to load the link while it is open.
    const { agent, url, password } = await inviteByFile('--expires-in', '3s', ...SHARED);
    await page.goto(url);
    await heading('Someone asked you for help').waitFor();
    expect(await agent.next('ended')).toEqual({ event: 'ended', reason: 'expired' });
    await expectCleanExit(agent, 1);
    expect(agent.stderr).toContain('expired');

    await page.getByLabel('Your name').fill('Grace Hopper');
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('alert').getByText('This invitation has expired, was used or withdrawn, or does not exist. Ask for a new one.').waitFor();
    await shoot('technician-expired-while-open');

    // The relay serves the link's page alike for every nameplate (it cannot be used to list them): joining tells.
    // The page dropped the secret from the address when it read it, so a reload cannot join again.
    const response = await page.reload();
    expect(response?.status()).toBe(200);
    await heading('This link is incomplete or damaged').waitFor();
    await page.getByText('If you reloaded this page: the code is not kept, open the link you were sent again.').waitFor();
    await shoot('technician-expired-link');
    expectCleanPage();
  });
});

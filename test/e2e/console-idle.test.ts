// The idle limit in the web console (headless Chromium, local runtime with a 2-minute idle limit),
// each side once, the other side driven by the SDK in this process:
// - the technician in the browser, the person's side on a manual clock (the idle limit is the
//   person's side's to keep): the warning shows on the page, and "I’m still here" puts it off for both;
// - the person in the browser, on the real clock: the warning a minute before the end shows, and
//   their "I’m still here" clears it for the technician too.
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { acceptHelp, joinHelp } from '../../sdk/node.js';
import { fastAssistOptions, record, useSdkSessions, whenRecorded } from '../support/assist.js';
import { useConsoleInBrowser } from '../support/browser.js';
import { ManualClock } from '../unit/sdk/support/manual-clock.js';

const web = useConsoleInBrowser({ policy: { idleTimeoutSeconds: 120 } });
const { shoot, heading, expectCleanPage } = web;

let page: Page;
const sdkSessions = useSdkSessions();

beforeEach(() => {
  page = web.page;
});

const idleWarning = () => page.getByRole('alert').filter({ hasText: 'Nothing has happened for a while' });

describe('the idle warning in the console', () => {
  it('the technician sees it, and their “I’m still here” puts the end off for both', async () => {
    await page.goto(`${web.runtime.httpUrl}/`);
    const offer = page.getByRole('form', { name: 'Create a helper code' });
    await offer.getByLabel('Your name').fill('Grace Hopper');
    await offer.getByRole('button', { name: 'Create a helper code' }).click();
    await heading('Read this code to the person').waitFor();
    const code = (await page.locator('.big-code').textContent())!;

    const clock = new ManualClock();
    const person = await acceptHelp({ relay: web.runtime.httpUrl, code, name: 'Ada Lovelace', clock, ...fastAssistOptions });
    sdkSessions.push(person);
    const seen = record(person);
    await whenRecorded(() => person.phase === 'deciding', 'the technician to get through the handshake');
    await person.approve('view');
    await heading('Helping Ada Lovelace').waitFor();
    expect(await idleWarning().isVisible()).toBe(false);

    // A minute of nothing on the person's side's clock: a minute left of the two.
    await clock.advance(60_000);
    expect(seen.log).toContain('idle-warning {"secondsLeft":60}');
    await idleWarning().getByText(/the session ends at .+ \(in a minute\) unless one of you does something\./).waitFor();
    await shoot('technician-idle-warning');
    await idleWarning().getByRole('button', { name: 'I’m still here' }).click();
    await whenRecorded(() => !person.idleWarned, 'the still-here to reach the person’s side');
    expect(seen.log).toContain('idle-cleared');
    await idleWarning().waitFor({ state: 'hidden' });
    expectCleanPage();
  });

  it('the person sees it a minute before the end, and their “I’m still here” clears it for the technician too', { timeout: 180_000 }, async () => {
    const password = await web.askForHelp();
    const expert = await joinHelp({ relay: web.runtime.httpUrl, invitation: password, name: 'Grace Hopper', ...fastAssistOptions });
    sdkSessions.push(expert);
    const seen = record(expert);
    await heading('Grace Hopper wants to help you').waitFor();
    await page.getByRole('button', { name: 'Let them in' }).click();
    await heading('Grace Hopper is helping you').waitFor();

    // The real clock: nothing happens for a minute (generous patience, not a timing check).
    await idleWarning().getByText(/\(in a minute\)/).waitFor({ timeout: 150_000 });
    await whenRecorded(() => seen.log.includes('idle-warning {"secondsLeft":60}'), 'the warning at the technician’s side');
    await shoot('person-idle-warning');
    await idleWarning().getByRole('button', { name: 'I’m still here' }).click();
    await idleWarning().waitFor({ state: 'hidden' });
    await whenRecorded(() => seen.log.includes('idle-cleared'), 'the technician to be told it goes on');
    expectCleanPage();
  });
});

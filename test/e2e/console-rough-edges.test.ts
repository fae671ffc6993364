// Rough edges of the web console from the same walkthrough (issue 13): a wrong helper code returns
// to the form with the message, and a long unbroken name does not break the page's layout.
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { joinHelp, offerHelp, requestHelp } from '../../sdk/node.js';
import { fastAssistOptions, useSessionsEndedAfterEach, whenRecorded } from '../support/assist.js';
import { useConsoleInBrowser } from '../support/browser.js';

const web = useConsoleInBrowser({ policy: { joinsPerSourceIp: 10_000, invitationsPerSourceIp: 10_000 } });
const { heading, expectCleanPage, shoot } = web;
const keep = useSessionsEndedAfterEach();
let page: Page;
beforeEach(() => {
  page = web.page;
});


/** Nothing wider than the window: no sideways scrolling. */
const fitsTheWindow = (on: Page) => on.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

describe('a wrong helper code', () => {
  it('returns the person to the form with the message, name and code kept; the right code then gets through', async () => {
    const offer = keep(await offerHelp({ relay: web.runtime.httpUrl, name: 'Grace Hopper', ...fastAssistOptions }));
    // The last two symbols changed: the same nameplate, another secret.
    const wrong = `${offer.code.slice(0, -2)}${offer.code.endsWith('00') ? '11' : '00'}`;
    await page.goto(`${web.runtime.httpUrl}/help`);
    const accept = page.getByRole('form', { name: 'Use a technician’s code' });
    await accept.getByLabel('Your name').fill('Ada Lovelace');
    await accept.getByLabel('Code', { exact: true }).fill(wrong);
    await accept.getByRole('button', { name: 'Connect' }).click();

    const code = page.getByRole('form', { name: 'Use a technician’s code' }).getByLabel('Code', { exact: true });
    await heading('Get help from a technician').waitFor();
    await page.getByText('The code or password did not match. Check it with the technician and try again.').waitFor();
    expect(await code.inputValue()).toBe(wrong);
    expect(await code.getAttribute('aria-invalid')).toBe('true');
    expect(await code.evaluate((input) => input === document.activeElement)).toBe(true);
    expect(await page.getByRole('form', { name: 'Use a technician’s code' }).getByLabel('Your name').inputValue()).toBe('Ada Lovelace');
    await shoot('person-wrong-helper-code');

    await code.fill(offer.code);
    await page.getByRole('form', { name: 'Use a technician’s code' }).getByRole('button', { name: 'Connect' }).click();
    await heading('Grace Hopper wants to help you').waitFor();
    expectCleanPage();
  });
});

describe('a 64-character name without a space', () => {
  const longName = 'W'.repeat(64);

  it('wraps on both sides, even on a phone-sized window', async () => {
    await page.setViewportSize({ width: 375, height: 720 });
    const request = keep(await requestHelp({ relay: web.runtime.httpUrl, kind: 'easy-connect', name: longName, ...fastAssistOptions }));
    if (request.invitation.kind !== 'easy-connect') throw new Error('an Easy Connect invitation was asked for');
    await page.goto(`${web.runtime.httpUrl}/`);
    const form = page.getByRole('form', { name: 'Help someone' });
    await form.getByLabel('Your name').fill(longName);
    await form.getByLabel('Easy Connect password or invitation link').fill(request.invitation.password);
    await form.getByRole('button', { name: 'Connect' }).click();
    await whenRecorded(() => request.phase === 'deciding', 'the technician to get through');
    await page.getByText(longName).first().waitFor();
    expect(await fitsTheWindow(page)).toBe(true);
    await request.approve('view');
    await heading(`Helping ${longName}`).waitFor();
    expect(await fitsTheWindow(page)).toBe(true);
    await shoot('technician-long-name');

    const personPage = await web.newPage(await web.openContext(), 'person');
    await personPage.setViewportSize({ width: 375, height: 720 });
    const expert = keep(await joinHelp({ relay: web.runtime.httpUrl, invitation: await web.askForHelp(personPage), name: longName, ...fastAssistOptions }));
    await heading(`${longName} wants to help you`, personPage).waitFor();
    expect(await fitsTheWindow(personPage)).toBe(true);
    await shoot('person-long-name', personPage);
    expect(expert.phase).not.toBe('ended');
    expectCleanPage();
  });
});


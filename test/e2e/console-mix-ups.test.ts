// Mix-ups in the web console (issue 13): a helper code typed where an Easy Connect password goes, or
// the reverse, is refused with where it goes instead, before any seat is taken; a technician who
// closes the tab before being let in frees the invitation at once.
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { joinHelp, offerHelp, requestHelp } from '../../sdk/node.js';
import { fastAssistOptions, record, useSessionsEndedAfterEach, whenRecorded } from '../support/assist.js';
import { useConsoleInBrowser } from '../support/browser.js';

const web = useConsoleInBrowser({ policy: { joinsPerSourceIp: 10_000, invitationsPerSourceIp: 10_000 } });
const { heading, expectCleanPage } = web;

const keep = useSessionsEndedAfterEach();
let page: Page;
beforeEach(() => {
  page = web.page;
});


async function technicianTypes(page: Page, invitation: string): Promise<void> {
  await page.goto(`${web.runtime.httpUrl}/`);
  const form = page.getByRole('form', { name: 'Help someone' });
  await form.getByLabel('Your name').fill('Grace Hopper');
  await form.getByLabel('Easy Connect password or invitation link').fill(invitation);
  await form.getByRole('button', { name: 'Connect' }).click();
}

describe('a code typed in the wrong place', () => {
  it('a helper code on the technician’s start page says where it goes; the person then gets in at once', async () => {
    const offer = keep(await offerHelp({ relay: web.runtime.httpUrl, name: 'Grace Hopper', ...fastAssistOptions }));
    const seen = record(offer);
    await technicianTypes(page, offer.code);
    await page
      .getByRole('alert')
      .getByText('This is a helper code: the person who needs help types it on this relay’s help page, under “A technician gave me a code”.')
      .waitFor();

    await page.goto(`${web.runtime.httpUrl}/help`);
    const accept = page.getByRole('form', { name: 'Use a technician’s code' });
    await accept.getByLabel('Your name').fill('Ada Lovelace');
    await accept.getByLabel('Code', { exact: true }).fill(offer.code);
    await accept.getByRole('button', { name: 'Connect' }).click();
    await heading('Grace Hopper wants to help you').waitFor();
    expect(seen.log).not.toContain('agent-left');
    expectCleanPage();
  });

  it('an Easy Connect password or a link in the person’s code field says whose it is', async () => {
    const request = keep(await requestHelp({ relay: web.runtime.httpUrl, kind: 'easy-connect', name: 'Ada Lovelace', ...fastAssistOptions }));
    const file = keep(await requestHelp({ relay: web.runtime.httpUrl, kind: 'file', name: 'Ada Lovelace', ...fastAssistOptions }));
    await page.goto(`${web.runtime.httpUrl}/help`);
    const accept = page.getByRole('form', { name: 'Use a technician’s code' });
    await accept.getByLabel('Your name').fill('Ada Lovelace');
    const typed = async (text: string, answer: string) => {
      await accept.getByLabel('Code', { exact: true }).fill(text);
      await accept.getByRole('button', { name: 'Connect' }).click();
      await accept.getByRole('alert').getByText(answer).waitFor();
    };
    if (request.invitation.kind !== 'easy-connect' || file.invitation.kind !== 'file') throw new Error('unexpected invitation kinds');
    await typed(request.invitation.password, 'This is an Easy Connect password: the technician types it on this relay’s start page. Here, type the code a technician read to you.');
    await typed(file.invitation.relayUrl, 'This is an invitation link or file, for the technician: they open the link in a browser and type its password.');

    // The Easy Connect password is still good for the technician.
    keep(await joinHelp({ relay: web.runtime.httpUrl, invitation: request.invitation.password, name: 'Grace Hopper', ...fastAssistOptions }));
    await whenRecorded(() => request.phase === 'deciding', 'the technician to get through');
    expectCleanPage();
  });
});

describe('a technician who goes away before being let in', () => {
  it('closing the tab frees the invitation at once: the person is told, and the next technician gets through', async () => {
    const request = keep(await requestHelp({ relay: web.runtime.httpUrl, kind: 'easy-connect', name: 'Ada Lovelace', ...fastAssistOptions }));
    if (request.invitation.kind !== 'easy-connect') throw new Error('unexpected invitation kind');
    let left = 0;
    request.on('expert-left', () => left++);
    await technicianTypes(page, request.invitation.password);
    await whenRecorded(() => request.phase === 'deciding', 'the technician in the browser to get through');
    await page.close();

    await whenRecorded(() => left === 1, 'the person to learn the technician left');
    const next = keep(await joinHelp({ relay: web.runtime.httpUrl, invitation: request.invitation.password, name: 'Grace Hopper', ...fastAssistOptions }));
    await whenRecorded(() => request.phase === 'deciding' && next.verificationCode !== undefined, 'the next technician to get through');
    expect(request.expert?.verificationCode).toBe(next.verificationCode);
  });
});

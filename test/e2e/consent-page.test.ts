// The device's consent page for a help-desk offer, answered in headless Chromium as the person would: it
// shows who asks, the reason and the verification code; its answers are allow view, allow control (only
// when the policy allows control) and deny; no answer in time is a denial; the port alone answers nothing.
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConsentPage, type ConsentPage, type OfferDetails } from '../../cli/consent-page.js';
import { chromiumPath } from '../support/chromium.js';
import { useCleanups } from '../support/harness.js';
import { ManualClock } from '../unit/sdk/support/manual-clock.js';

const details: OfferDetails = {
  technician: { name: 'Ada <Tech>', email: 'ada@example.org', organisation: 'login.example.org' },
  reason: 'INC-42: the printer',
  deviceName: 'Reception PC',
  verificationCode: '123 456',
  shares: { kind: 'desktop' },
};

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: chromiumPath });
});
afterAll(() => browser?.close());
const defer = useCleanups();

async function opened(clock?: ManualClock): Promise<ConsentPage> {
  const consent = await openConsentPage(details, clock);
  defer(() => consent.close());
  return consent;
}

async function visit(url: string) {
  const page = await browser.newPage();
  defer(() => page.close());
  await page.goto(url);
  return page;
}

describe('the consent page', () => {
  it('shows who asks, why and the verification code, and takes "allow control" once', async () => {
    const consent = await opened();
    expect(consent.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{43}$/);
    const answer = consent.ask(['view', 'control'], 60_000);
    const page = await visit(consent.url);
    expect(await page.locator('#technician').textContent()).toBe('Ada <Tech> <ada@example.org> of login.example.org');
    expect(await page.locator('#reason').textContent()).toBe('INC-42: the printer');
    expect(await page.locator('#verification').textContent()).toBe('123 456');
    await page.getByRole('button', { name: 'Allow control' }).click();
    expect(await answer).toBe('control');
    await expect.poll(() => page.locator('#outcome').textContent()).toContain('see and control');
    // A second answer (a reload, another tab) changes nothing.
    const again = await visit(consent.url);
    expect(await again.getByRole('button').count()).toBe(0);
  });

  it('offers no control where the policy allows view only, and takes a denial', async () => {
    const consent = await opened();
    const answer = consent.ask(['view'], 60_000);
    const page = await visit(consent.url);
    expect(await page.getByRole('button').allTextContents()).toEqual(['Allow view', 'Deny']);
    // A forged "control" answer is ignored: the question stays open.
    const forged = await fetch(consent.url, { method: 'POST', body: 'answer=control', headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
    expect(forged.status).toBe(303);
    await page.getByRole('button', { name: 'Deny' }).click();
    expect(await answer).toBe('deny');
    await expect.poll(() => page.locator('#outcome').textContent()).toContain('You denied the offer');
  });

  it('denies when nobody answers in time', async () => {
    const clock = new ManualClock();
    const consent = await opened(clock);
    const answer = consent.ask(['view', 'control'], 60_000);
    const page = await visit(consent.url);
    expect(await page.locator('#seconds').textContent()).toBe('60');
    await clock.advance(60_000);
    expect(await answer).toBe('timeout');
    await page.reload();
    expect(await page.locator('#outcome').textContent()).toContain('No answer in time');
  });

  it('answers nothing without the secret path, and says for a notice group who is connected', async () => {
    const consent = await opened();
    const { origin } = new URL(consent.url);
    const answer = consent.ask(['view'], 60_000);
    for (const path of ['/', '/x', `${new URL(consent.url).pathname}x`]) {
      const response = await fetch(`${origin}${path}`, { method: 'POST', body: 'answer=view', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(response.status).toBe(404);
    }
    await consent.close();
    expect(await answer).toBe('deny');

    // The browser may open the page before the session starts: it follows into it.
    const notice = await opened();
    const page = await visit(notice.url);
    expect(await page.locator('#outcome').textContent()).toBe('The help desk is connecting…');
    notice.startSession({ mode: 'view', notice: true, controlAllowed: false }, () => {});
    await expect.poll(() => page.locator('#doing').textContent()).toBe('Ada <Tech> is watching this device');
    expect(await page.locator('#live').textContent()).toContain('lets this technician connect without asking');
    expect(await page.locator('#doing').textContent()).toBe('Ada <Tech> is watching this device');
    expect(await page.locator('#verification').textContent()).toBe('123 456');
  });

  it('becomes the session page: it follows the session, and its buttons give only what the policy and the moment allow', async () => {
    const consent = await opened();
    const commands: string[] = [];
    consent.startSession({ mode: 'view', notice: false, controlAllowed: false }, (command) => commands.push(command.cmd === 'chat' ? `chat ${command.text}` : command.cmd));
    consent.show({ event: 'desktop-share', state: 'started', monitor: 2, width: 1152, height: 720, codec: 'vp8' });
    consent.show({ event: 'control-requested' });
    const page = await visit(consent.url);
    expect(await page.locator('#doing').textContent()).toBe('Ada <Tech> is watching this device');
    expect(await page.locator('#status').textContent()).toBe('Your screen (monitor 2) is shared. Ada <Tech> can only watch.');
    expect(await page.locator('#request').textContent()).toBe('Ada <Tech> asks for control. Your organisation’s policy allows view only.');
    expect(await page.getByRole('button').allTextContents()).toEqual(['Pause', 'Say no to control', 'Stop sharing the screen', 'Share the clipboard', 'End session', 'Send']);
    // Control the policy does not allow, or a resume while not paused, are not buttons of this page: forged, they do nothing.
    for (const forged of ['do=grant-control', 'do=resume', 'do=revoke-control', 'do=clipboard-off', 'do=format-disk']) {
      const response = await fetch(consent.url, { method: 'POST', body: forged, headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
      expect(response.status).toBe(303);
    }
    await page.getByLabel('Message to Ada <Tech>').fill('Hello <b>there</b>');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('button', { name: 'Pause' }).click();
    expect(commands).toEqual(['chat Hello <b>there</b>', 'pause']);
    // The clipboard, as an invited person shares it: the page asks, and follows what the agent says.
    await page.getByRole('button', { name: 'Share the clipboard' }).click();
    expect(commands.at(-1)).toBe('clipboard');
    consent.show({ event: 'clipboard-allowed', allowed: true });
    await expect.poll(() => page.getByRole('button', { name: 'Stop sharing the clipboard' }).count()).toBe(1);
    // The page follows without a reload: paused, a message from the technician, the end.
    consent.show({ event: 'paused' });
    consent.show({ event: 'chat', text: 'Thanks' });
    await expect.poll(() => page.locator('#doing').textContent()).toBe('Paused: Ada <Tech> sees nothing');
    expect(await page.locator('#chat').innerText()).toBe('You: Hello <b>there</b>\nAda <Tech>: Thanks');
    expect(await page.getByRole('button', { name: 'Resume' }).count()).toBe(1);
    // The end comes right after another change and the server closes: the page still learns of the end.
    consent.show({ event: 'desktop-share', state: 'stopped', monitor: 2 });
    consent.show({ event: 'ended', reason: 'ended-by-expert' });
    await consent.close();
    await expect.poll(() => page.locator('#outcome').textContent()).toBe('The help-desk session has ended. Ada <Tech> ended the session.');
  });
});

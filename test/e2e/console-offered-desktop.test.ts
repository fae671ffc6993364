// A help-desk offer from the console to a device with a desktop: `assist agent --json` runs on a virtual X display
// (Xvfb) where a test program (test/support/x-display.ts) draws a red box and records the clicks it gets; the
// technician signs in on the console in headless Chromium and offers help; the person allows control on the
// agent's page. The console then shows the device's desktop in the same viewer as an invited session's, and a
// click on its picture lands on the X display.
import type { Locator } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalOidcProvider } from '../../infra/local/oidc-provider.js';
import { digits, useConsoleInBrowser } from '../support/browser.js';
import { useAssist } from '../support/cli.js';
import { signInOnConsole } from '../support/console-technician.js';
import { useCleanups } from '../support/harness.js';
import { enrolledAgent, OFFERED_SCREEN, RED_BOX, useOfferedDesktop } from '../support/help-desk.js';

const GROUP = 'Front desk';
const DEVICE = 'Front desk PC';

const provider = await startLocalOidcProvider();
afterAll(() => provider.close());
const web = useConsoleInBrowser({ technicianIssuer: provider.issuer });
const { start } = useAssist(() => web.runtime.httpUrl);
const defer = useCleanups();
const desktop = useOfferedDesktop(() => ({ runtime: web.runtime, issuer: provider.issuer }), GROUP);

/** Clicks the technician's picture where it shows the X screen's point (x, y). */
async function clickPicture(canvas: Locator, point: { x: number; y: number }): Promise<void> {
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  await web.page.mouse.click(box.x + (point.x * box.width) / OFFERED_SCREEN.width, box.y + (point.y * box.height) / OFFERED_SCREEN.height);
}

describe('an offer from the console to a device with a desktop', () => {
  it('shows the device’s desktop once the person allows control, and the technician’s click lands on it', async () => {
    const { agent } = await enrolledAgent(web.runtime, start, { group: GROUP, name: DEVICE, env: desktop.xDisplay.env, defer });
    const { page } = web;
    const ada = provider.accounts.find((account) => account.username === 'ada')!;
    await signInOnConsole(page, web.runtime.httpUrl, ada);
    await page.getByRole('button', { name: `Offer help to ${DEVICE}` }).click();
    await page.getByLabel('Reason or ticket number').fill('INC-7: the screen is frozen');
    await page.getByRole('button', { name: 'Offer help', exact: true }).click();

    const asked = await agent.next('offer');
    expect(asked).toMatchObject({ technician: ada.name, reason: 'INC-7: the screen is frozen', shares: 'desktop' });
    const consent = await web.newPage(await web.openContext(), DEVICE);
    await consent.goto(asked.page as string);
    const code = page.locator('.big-code');
    await code.waitFor();
    expect(digits(await code.textContent())).toBe(digits(await consent.locator('#verification').textContent()));
    await consent.getByRole('button', { name: 'Allow control', exact: true }).click();

    await web.heading(`Helping ${DEVICE}`).waitFor();
    const controlled = page.getByRole('application', { name: `${DEVICE}’s desktop` });
    await controlled.waitFor({ timeout: 30_000 });
    const centre = { x: RED_BOX.x + RED_BOX.width / 2, y: RED_BOX.y + RED_BOX.height / 2 };
    await clickPicture(controlled, centre);
    await expect.poll(() => desktop.target.clicks(), { timeout: 20_000 }).toEqual([expect.objectContaining({ type: 'click', button: 0 })]);
    const [click] = await desktop.target.clicks();
    // 1280×800 is coded in at most 1280×720: a pixel of the picture is up to 1.2 of the screen's.
    expect(Math.abs(click!.x - centre.x)).toBeLessThanOrEqual(2);
    expect(Math.abs(click!.y - centre.y)).toBeLessThanOrEqual(2);
    await web.shoot('console-offered-desktop');

    await page.getByRole('button', { name: 'Leave the session' }).click();
    await web.heading('The session has ended').waitFor();
    expect(await agent.next('offer-session-ended')).toMatchObject({ reason: 'ended-by-expert' });
    // The console's page is clean; the device's page loses its server when the session ends (its own test covers it).
    web.expectCleanPage([new RegExp(`^${DEVICE}: `)]);
  });
});

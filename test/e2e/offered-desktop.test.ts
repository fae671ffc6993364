// A help-desk offer to an enrolled device with a desktop, end to end: `assist agent --json` runs on a virtual X
// display (Xvfb) where a test program (test/support/x-display.ts) records the pointer it gets; the technician
// is the SDK, signed in at the local OpenID provider; the person answers and steers the session on the agent's
// page in headless Chromium. The technician gets video only after "allow view"; its input is dropped on the
// device until the person gives control there, then lands on the X display; the page pauses, takes control
// back, stops the share and ends the session; the relay audits each step. Every wait is for an event.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../infra/local/dynamo.js';
import { startLocalOidcProvider, type LocalOidcProvider } from '../../infra/local/oidc-provider.js';
import { startLocalRuntime, type LocalRuntime } from '../../infra/local/runtime.js';
import { LOCAL_TABLE } from '../../infra/operator-table.js';
import type { PointerInput, VideoConfig } from '../../sdk/assist-messages.js';
import type { AssistEnd, HelpOffer } from '../../sdk/node.js';
import { DynamoAuditTrail } from '../../shared/server/adapters/dynamo-audit-trail.js';
import { chromiumPath } from '../support/chromium.js';
import { useAssist, type AssistProcess } from '../support/cli.js';
import { useCleanups } from '../support/harness.js';
import { enrolledAgent, OFFERED_SCREEN, offerTo, RED_BOX, signInTechnician, technicianOffer, useOfferedDesktop } from '../support/help-desk.js';
import { sendRaw } from '../unit/sdk/support/assist-pair.js';
import { xClipboard } from '../support/x-display.js';

const GROUP = 'Front desk';

let provider: LocalOidcProvider;
let runtime: LocalRuntime;
let browser: Browser;
let table: DynamoDBClient;
beforeAll(async () => {
  provider = await startLocalOidcProvider();
  runtime = await startLocalRuntime({ port: 0, technicianIssuer: provider.issuer });
  browser = await chromium.launch({ executablePath: chromiumPath });
  table = new DynamoDBClient({ ...localAwsConfig, endpoint: runtime.dynamoEndpoint });
});
afterAll(async () => {
  table?.destroy();
  await browser?.close();
  await runtime?.close();
  await provider?.close();
});
const desktop = useOfferedDesktop(() => ({ runtime, issuer: provider.issuer }), GROUP);
const defer = useCleanups();
const { start } = useAssist(() => runtime.httpUrl);

/** A machine enrolled with `assist enrol` whose `assist agent --json` runs on the X display. */
const deviceOnDisplay = (name: string) => enrolledAgent(runtime, start, { group: GROUP, name, env: desktop.xDisplay.env, defer });

/** What the technician's side received of the desktop. */
function watchVideo(offer: HelpOffer) {
  const seen = { configs: [] as VideoConfig[], chunks: 0 };
  offer.on('video-config', (config) => seen.configs.push(config));
  offer.on('video-chunk', () => seen.chunks++);
  return seen;
}

async function auditOf(sessionId: string): Promise<string[]> {
  const events = await new DynamoAuditTrail(table, LOCAL_TABLE, () => Math.floor(Date.now() / 1000)).list(sessionId);
  return events.map(({ event, detail }) => (detail ? `${event} ${detail}` : event));
}

const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });

describe('an offered session on a device with a desktop', () => {
  it('shares the desktop after "allow view", drops input until the person gives control on the page, then injects it; pause, take back, clipboard, stop and end from the page', async () => {
    const { agent, deviceId } = await deviceOnDisplay('Reception PC');
    const ada = await signInTechnician(provider, 'ada');
    const offer = await technicianOffer(runtime, ada, 'ada', defer);
    const video = watchVideo(offer);
    const ended = new Promise<AssistEnd>((resolve) => offer.on('ended', resolve));
    const listed = (await offer.client.listOfferableDevices()).find((device) => device.deviceId === deviceId)!;
    await offerTo(ada, offer, listed, 'INC-7: the screen is frozen');

    const asked = await agent.next('offer');
    expect(asked).toMatchObject({ technician: 'Ada Lovelace', shares: 'desktop', consent: 'ask' });
    const page = await browser.newPage();
    defer(() => page.close());
    await page.goto(asked.page as string);
    expect(await page.locator('#shares').textContent()).toContain('Allowing shares this screen');
    // Nothing is captured before the answer.
    expect(agent.events.map(({ event }) => event)).not.toContain('desktop-share');
    expect(video.chunks).toBe(0);
    await button(page, 'Allow view').click();

    // 1280×800 is coded in at most 1280×720.
    expect(await agent.next('desktop-share')).toMatchObject({ state: 'started', monitor: 1, width: 1152, height: 720 });
    await expect.poll(() => video.chunks, { timeout: 20_000 }).toBeGreaterThan(0);
    const config = video.configs.at(-1)!;
    expect(config).toMatchObject({ source: 'desktop', controllable: true });
    await expect.poll(() => page.locator('#doing').textContent()).toBe('Ada Lovelace is watching this device');
    expect(await page.locator('#status').textContent()).toContain('Your screen (monitor 1) is shared. Ada Lovelace can only watch.');

    // Picture coordinates: the desktop is coded at config's size.
    const at = (action: 'down' | 'up', point: { x: number; y: number }): PointerInput => ({
      action,
      button: 'left',
      x: Math.round((point.x * config.width) / OFFERED_SCREEN.width),
      y: Math.round((point.y * config.height) / OFFERED_SCREEN.height),
    });
    const centre = { x: RED_BOX.x + RED_BOX.width / 2, y: RED_BOX.y + RED_BOX.height / 2 };
    /** A click sent as a side that ignores the rules would: the device itself must drop it. */
    const forcedClick = async (why: string) => {
      await sendRaw(offer.client, { type: 'pointer', ...at('down', centre) });
      expect(await agent.next('input-dropped')).toMatchObject({ why });
    };

    // View only: the SDK does not even send; a forced click is dropped by the device; nothing reaches X.
    expect(await offer.sendPointer(at('down', centre))).toBe(false);
    await forcedClick('control is not granted');
    expect(await desktop.target.clicks()).toEqual([]);

    // The technician asks; the person gives control on the page; the click lands.
    const granted = new Promise<void>((resolve) => offer.on('control', ({ state }) => state === 'granted' && resolve()));
    await offer.requestControl();
    await expect.poll(() => page.locator('#request').textContent()).toBe('Ada Lovelace asks for control.');
    await button(page, 'Give control').click();
    await granted;
    await expect.poll(() => page.locator('#doing').textContent()).toBe('Ada Lovelace is controlling this device');
    expect(await offer.sendPointer(at('down', centre))).toBe(true);
    expect(await offer.sendPointer(at('up', centre))).toBe(true);
    await expect.poll(() => desktop.target.clicks()).toEqual([expect.objectContaining({ type: 'click', button: 0 })]);
    const [click] = await desktop.target.clicks();
    expect(Math.abs(click!.x - centre.x)).toBeLessThanOrEqual(2);
    expect(Math.abs(click!.y - centre.y)).toBeLessThanOrEqual(2);

    // Take back control on the page: input is dropped again.
    const revoked = new Promise<void>((resolve) => offer.on('control', ({ state }) => state === 'revoked' && resolve()));
    await button(page, 'Take back control').click();
    await revoked;
    await forcedClick('control is not granted');

    // Pause on the page: the technician is told, input is dropped; resume.
    const paused = new Promise<void>((resolve) => offer.on('paused', () => resolve()));
    await button(page, 'Pause').click();
    await paused;
    await expect.poll(() => page.locator('#doing').textContent()).toBe('Paused: Ada Lovelace sees nothing');
    await forcedClick('the session is paused');
    const resumed = new Promise<void>((resolve) => offer.on('resumed', () => resolve()));
    await button(page, 'Resume').click();
    await resumed;

    // Share the clipboard on the page, as an invited person can: the technician is told, and text it sends lands on
    // the device's clipboard; stopped on the page, nothing more moves.
    const clipboardAllowed = () =>
      new Promise<boolean>((resolve) => {
        const stop = offer.on('clipboard-allowed', ({ allowed }) => {
          stop();
          resolve(allowed);
        });
      });
    const shared = clipboardAllowed();
    await button(page, 'Share the clipboard').click();
    expect(await shared).toBe(true);
    await expect.poll(() => page.locator('#status').textContent()).toContain('Clipboard text follows both ways.');
    expect(await offer.sendClipboard('INC-7: restart the spooler')).toBe(true);
    await expect.poll(() => xClipboard(desktop.xDisplay), { timeout: 10_000 }).toBe('INC-7: restart the spooler');
    const stoppedSharing = clipboardAllowed();
    await button(page, 'Stop sharing the clipboard').click();
    expect(await stoppedSharing).toBe(false);
    expect(await offer.sendClipboard('not any more')).toBe(false);

    // Stop sharing the screen, then end the session, from the page.
    const stopped = new Promise<void>((resolve) => offer.on('screen-share', ({ state }) => state === 'stopped' && resolve()));
    await button(page, 'Stop sharing the screen').click();
    await stopped;
    expect(await agent.next('desktop-share', ({ state }) => state === 'stopped')).toMatchObject({ reason: 'by-person' });
    await button(page, 'End session').click();
    expect(await ended).toMatchObject({ reason: 'ended-by-agent' });
    expect(await agent.next('offer-session-ended')).toMatchObject({ reason: 'ended-by-agent' });
    await expect.poll(() => page.locator('#outcome').textContent()).toBe('The help-desk session has ended. You ended the session.');
    expect(await desktop.target.clicks()).toHaveLength(1);

    // The relay's audit, from what the device recorded: the same rows as an invited session's.
    expect(await auditOf(offer.client.session!.sessionId)).toEqual(
      expect.arrayContaining([
        'offer-answered view',
        'approved view',
        'desktop-share-started',
        'control-granted',
        'control-revoked',
        'paused',
        'resumed',
        'desktop-share-stopped',
        'ended ended-by-agent',
      ]),
    );
    // The agent waits for the next offer.
    expect(agent.child.exitCode).toBe(null);
  });
});

// Desktop remote control end to end: the person runs `assist invite|accept … --desktop --json` on a
// virtual X display (Xvfb) where a test program (full-screen Chromium, test/support/x-display.ts)
// draws known colours and records the pointer and keys it gets; the technician is the web console in
// headless Chromium. What the technician sees is read from the canvas's pixels; where their clicks
// and keys land is read from the X program. Every wait is for an event, a page state or a picture.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { digits, useConsoleInBrowser } from '../support/browser.js';
import { expectCleanExit, hangUpAfterEnd, useAssist, type AssistProcess } from '../support/cli.js';
import { captureXScreen, copyOnX, startTargetProgram, startXDisplay, xClipboard, type ColourRegion, type TargetProgram, type XDisplay } from '../support/x-display.js';

const SCREEN = { width: 1280, height: 800 };
const RED = '#ff0000';
const BLUE = '#0000ff';
const GREEN = '#00ff00';
const LEFT_BOX: ColourRegion = { x: 80, y: 80, width: 400, height: 300, color: RED };
const RIGHT_BOX: ColourRegion = { x: 760, y: 380, width: 400, height: 300, color: BLUE };
const PERSON = 'Ada Lovelace';

const web = useConsoleInBrowser();
const { start } = useAssist(() => web.runtime.httpUrl);
let page: Page;
let xDisplay: XDisplay;
let target: TargetProgram;

beforeAll(async () => {
  xDisplay = await startXDisplay(SCREEN);
  target = await startTargetProgram(xDisplay);
});
afterAll(async () => {
  await target?.close();
  await xDisplay?.close();
});
beforeEach(async () => {
  page = web.page;
  await target.forget();
  await target.drawRegions([LEFT_BOX, RIGHT_BOX]);
  // Without a window manager, X keyboard input goes to the window that was last raised.
  await target.page.bringToFront();
});

/** `assist <args> --desktop --json` on the X display, as the person. */
const person = (...args: string[]) => start([...args, '--desktop', '--name', PERSON, '--json', '--relay', web.runtime.httpUrl], { env: { ...process.env, ...xDisplay.env } });

const desktopCanvas = () => page.getByLabel(`${PERSON}’s desktop`, { exact: true });

/** Waits until the technician's picture shows `color` at the X screen's point (x, y). */
async function technicianSees(point: { x: number; y: number }, color: string): Promise<void> {
  const [r, g, b] = [1, 3, 5].map((at) => parseInt(color.slice(at, at + 2), 16));
  await desktopCanvas().evaluate(
    (canvas: HTMLCanvasElement, { point, screen, rgb }) =>
      new Promise<void>((resolve) => {
        const look = () => {
          const x = Math.floor((point.x * canvas.width) / screen.width);
          const y = Math.floor((point.y * canvas.height) / screen.height);
          const [pr, pg, pb] = canvas.getContext('2d')!.getImageData(x, y, 1, 1).data;
          // Video coding shifts colours a little; a channel within 40 of the drawn one is that colour.
          if ([pr!, pg!, pb!].every((value, channel) => Math.abs(value - rgb[channel]!) < 40)) resolve();
          else requestAnimationFrame(look);
        };
        look();
      }),
    { point, screen: SCREEN, rgb: [r!, g!, b!] },
  );
}

/** Clicks the technician's picture where it shows the X screen's point (x, y). */
async function clickPicture(canvas: Locator, point: { x: number; y: number }): Promise<void> {
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  await page.mouse.click(box.x + (point.x * box.width) / SCREEN.width, box.y + (point.y * box.height) / SCREEN.height);
}

/** The person's side handled everything the technician sent before this chat message (the stream is ordered). */
async function barrier(agent: AssistProcess, text: string): Promise<void> {
  const message = page.getByLabel(`Message to ${PERSON}`);
  await message.fill(text);
  await message.press('Enter');
  expect(await agent.next('chat')).toEqual({ event: 'chat', text });
}

const framesDrawn = async () => Number(await desktopCanvas().getAttribute('data-frames-drawn'));
const centre = (box: ColourRegion) => ({ x: box.x + box.width / 2, y: box.y + box.height / 2 });

async function joinByEasyConnect(agent: AssistProcess): Promise<void> {
  const { password } = await agent.next('invitation');
  await page.goto(`${web.runtime.httpUrl}/`);
  const form = page.getByRole('form', { name: 'Help someone' });
  await form.getByLabel('Your name').fill('Grace Hopper');
  await form.getByLabel('Easy Connect password or invitation link').fill(password as string);
  await form.getByRole('button', { name: 'Connect' }).click();
  await web.heading('Read this code to the person').waitFor();
  const connected = await agent.next('connected');
  expect(digits(await page.locator('.big-code').textContent())).toBe(connected.verification);
}

describe('the person shares their desktop from the assist command; the technician sees it in the browser', () => {
  it('shows the desktop only after approval; with control, clicks and typing land on the X display; without control or while paused nothing does; the share ends with the session', async () => {
    const agent = person('invite', '--easy-connect');
    await joinByEasyConnect(agent);
    // Nothing is captured or sent before approval: no share on either side.
    expect(agent.events.map(({ event }) => event)).not.toContain('desktop-share');
    expect(await page.getByRole('region', { name: `Shared by ${PERSON}` }).count()).toBe(0);

    agent.send({ cmd: 'approve', mode: 'view' });
    // This Chromium decodes H.264: the share is H.264 (after some VP8 if the page's codec list came after the start).
    expect(await agent.next('desktop-share', ({ codec }) => codec === 'avc1.640028')).toMatchObject({ state: 'started', width: 1280, height: 800 });
    await technicianSees(centre(LEFT_BOX), RED);
    await technicianSees(centre(RIGHT_BOX), BLUE);
    await technicianSees({ x: 640, y: 40 }, '#ffffff');
    // Fitted, the whole picture is in the window without scrolling the page: the share brought it up.
    const fitted = (await desktopCanvas().boundingBox())!;
    expect(fitted.y).toBeGreaterThanOrEqual(0);
    expect(fitted.y + fitted.height).toBeLessThanOrEqual(page.viewportSize()!.height);
    // The person's pointer is drawn with its own shape (X11's XFixes, cursor-shape messages), not the stand-in arrow.
    const pointer = page.locator('.desktop-cursor');
    await expect.poll(() => pointer.locator('canvas').getAttribute('data-shape')).toMatch(/^\d+x\d+$/);
    expect(await pointer.locator('span').isHidden()).toBe(true);
    await page.getByText(`${PERSON} is sharing their desktop. You can see it; ask for control to use its mouse and keyboard.`).waitFor();
    expect(await page.getByRole('heading', { name: `${PERSON}’s terminal` }).isVisible()).toBe(false);
    await web.shoot('desktop-1-view-only');

    // View only: a click on the picture sends nothing (the canvas is an image, not an application).
    await clickPicture(desktopCanvas(), centre(LEFT_BOX));

    await page.getByRole('button', { name: 'Ask for control' }).click();
    await agent.next('control-requested');
    agent.send({ cmd: 'grant-control' });
    const controlled = page.getByRole('application', { name: `${PERSON}’s desktop` });
    await controlled.waitFor();
    await clickPicture(controlled, { x: 900, y: 500 });
    await expect.poll(() => target.clicks()).toEqual([expect.objectContaining({ type: 'click', button: 0 })]);
    const [click] = await target.clicks();
    // The picture is scaled (1280×800 is coded in at most 1280×720): a pixel of it is up to 1.2 of the screen's.
    expect(Math.abs(click!.x - 900)).toBeLessThanOrEqual(2);
    expect(Math.abs(click!.y - 500)).toBeLessThanOrEqual(2);

    // Typing: a click through X focuses the program's text input, then keys go to it.
    await clickPicture(controlled, centre(target.textInput as ColourRegion));
    await page.keyboard.type('Hello, desktop! 42? (a:b)');
    await expect.poll(() => target.text()).toBe('Hello, desktop! 42? (a:b)');
    await web.shoot('desktop-2-controlling');

    // Control taken back: the page stops sending, and what a technician's page might still send is dropped.
    agent.send({ cmd: 'revoke-control' });
    await page.getByRole('img', { name: `${PERSON}’s desktop` }).waitFor();
    await clickPicture(desktopCanvas(), { x: 300, y: 600 });
    await page.keyboard.type('no');
    await barrier(agent, 'after the revoke');
    // Paused: nothing is captured; a change on the screen shows only after the resume.
    agent.send({ cmd: 'pause' });
    await page.getByText(`${PERSON} paused the session: the picture does not change until they resume.`).first().waitFor();
    const drawnWhenPaused = await framesDrawn();
    await target.drawRegions([{ ...LEFT_BOX, color: GREEN }, RIGHT_BOX]);
    // The X screen shows the change (a capture in a child process, several of the sender's frame intervals long).
    const screen = await captureXScreen(xDisplay);
    const offset = (centre(LEFT_BOX).y * screen.width + centre(LEFT_BOX).x) * 4;
    expect([...screen.data.subarray(offset, offset + 3)]).toEqual([0, 255, 0]);
    await barrier(agent, 'while paused');
    expect(await framesDrawn()).toBe(drawnWhenPaused);
    agent.send({ cmd: 'resume' });
    await technicianSees(centre(LEFT_BOX), GREEN);
    // Nothing typed or clicked without control reached the program: still the one click and the text.
    expect(await target.text()).toBe('Hello, desktop! 42? (a:b)');
    expect((await target.clicks()).map(({ x, y }) => [Math.round(x / 100), Math.round(y / 100)])).toEqual([
      [9, 5],
      [Math.round(centre(target.textInput as ColourRegion).x / 100), Math.round(centre(target.textInput as ColourRegion).y / 100)],
    ]);

    agent.send({ cmd: 'end' });
    // A share announces 'started' again at each new coded size (a busy machine steps it down and up).
    expect(await agent.next('desktop-share', ({ state }) => state === 'stopped')).toMatchObject({ state: 'stopped' });
    await web.heading('The session has ended').waitFor();
    expect(await agent.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-agent' });
    // --desktop alone shares no terminal: nothing outlives the session, and the technician saw none.
    await expectCleanExit(agent, 0);
    expect(agent.output).toBe('');
    web.expectCleanPage();
  });

  it('with --clipboard, text goes both ways through the console’s Clipboard panel; the person stops the desktop share alone and the console says so', async () => {
    const agent = person('invite', '--easy-connect', '--clipboard', '--codec', 'vp8');
    await joinByEasyConnect(agent);
    await copyOnX(xDisplay, 'on the clipboard before the session');
    agent.send({ cmd: 'approve', mode: 'view' });
    expect(await agent.next('clipboard-allowed')).toEqual({ event: 'clipboard-allowed', allowed: true });
    const panel = page.getByRole('region', { name: 'Clipboard' });
    await panel.waitFor();

    // The technician pastes to the person's clipboard: an X program reads it there.
    await panel.getByLabel(`Text for ${PERSON}’s clipboard`).fill('from the technician: ✓ ünïcode');
    await panel.getByRole('button', { name: `Paste to ${PERSON}’s clipboard` }).click();
    expect(await agent.next('clipboard')).toEqual({ event: 'clipboard', direction: 'received', characters: 30 });
    await expect.poll(() => xClipboard(xDisplay)).toBe('from the technician: ✓ ünïcode');

    // The person copies on their desktop: the console shows it (what was there before was never sent).
    await copyOnX(xDisplay, 'from the person');
    expect(await agent.next('clipboard')).toEqual({ event: 'clipboard', direction: 'sent', characters: 15 });
    await expect.poll(() => panel.getByLabel(`From ${PERSON}’s clipboard`).inputValue()).toBe('from the person');
    await web.shoot('desktop-3-clipboard');

    // Only the desktop share stops; the session goes on.
    await technicianSees(centre(LEFT_BOX), RED);
    agent.send({ cmd: 'stop-desktop' });
    expect(await agent.next('desktop-share', ({ state }) => state === 'stopped')).toMatchObject({ state: 'stopped', reason: 'by-person' });
    // --codec vp8: VP8 all along, though the technician's page listed H.264 first (before its paste arrived).
    expect(new Set(agent.events.filter(({ event, state }) => event === 'desktop-share' && state === 'started').map(({ codec }) => codec))).toEqual(new Set(['vp8']));
    await page.getByText(`${PERSON} stopped sharing their desktop.`).first().waitFor();
    await barrier(agent, 'the session goes on');

    agent.send({ cmd: 'end' });
    expect(await agent.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-agent' });
    // --desktop alone shares no terminal: nothing outlives the session.
    await expectCleanExit(agent, 0);
    web.expectCleanPage();
  });

  it('with a helper code: `assist accept CODE --desktop --command CMD`, approved with control, the technician clicks at once and sees the terminal too', async () => {
    await page.goto(`${web.runtime.httpUrl}/`);
    const offer = page.getByRole('form', { name: 'Create a helper code' });
    await offer.getByLabel('Your name').fill('Grace Hopper');
    await offer.getByRole('button', { name: 'Create a helper code' }).click();
    const code = (await page.locator('.big-code').textContent())!.trim();

    const agent = person('accept', code, '--command', 'echo "terminal too: $((6*7))"; exec cat');
    const connected = await agent.next('connected');
    expect(connected).toMatchObject({ peer: 'Grace Hopper' });
    agent.send({ cmd: 'approve', mode: 'control' });
    const controlled = page.getByRole('application', { name: `${PERSON}’s desktop` });
    await controlled.waitFor();
    await technicianSees(centre(RIGHT_BOX), BLUE);
    await clickPicture(controlled, centre(RIGHT_BOX));
    await expect.poll(() => target.clicks()).toEqual([expect.objectContaining({ type: 'click' })]);
    await page.locator('.xterm-rows').getByText('terminal too: 42').waitFor();

    await page.getByRole('button', { name: 'Leave the session' }).click();
    expect(await agent.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-expert' });
    await hangUpAfterEnd(agent);
    web.expectCleanPage();
  });
});

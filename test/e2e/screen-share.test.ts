import type { BrowserContext, Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_FRAMES_PER_SECOND } from '../../web/src/screen-share.js';
import { digits, useConsoleInBrowser } from '../support/browser.js';

// Screen sharing in headless Chromium: the person (the console at /help) shares another tab, view
// only, as video (WebCodecs VP8); the technician (the console, in its own browser context) decodes
// it into the picture it shows, live. Chromium picks the
// tab by its title instead of showing its picker (--auto-select-tab-capture-source-by-title), so
// the person's page runs exactly as with a real person choosing that tab.

/** The tab the person shares: a plain colour, so the technician's picture can be checked pixel by pixel. */
const SHARED_TAB_TITLE = 'Colour card shared by the test';

const web = useConsoleInBrowser({ launchArgs: [`--auto-select-tab-capture-source-by-title=${SHARED_TAB_TITLE}`] });
const { shoot, heading, newPage } = web;

let personContext: BrowserContext;
let technicianContext: BrowserContext;

beforeEach(async () => {
  personContext = await web.openContext();
  technicianContext = await web.openContext();
  // Observation only, injected by the test harness (outside the page's policy): the person's page
  // keeps the streams it captured, so the test can see whether their tracks were stopped…
  await personContext.addInitScript(() => {
    const shares: MediaStream[] = [];
    Object.assign(window, { shares });
    const getDisplayMedia = navigator.mediaDevices.getDisplayMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getDisplayMedia = async (options) => {
      const stream = await getDisplayMedia(options);
      shares.push(stream);
      return stream;
    };
  });
});

/** A tab in the person's browser showing one colour: what they will share. */
async function colourTab(colour: string): Promise<Page> {
  const tab = await newPage(personContext, 'shared tab');
  await tab.setContent(`<!doctype html><title>${SHARED_TAB_TITLE}</title><body style="margin: 0; height: 100vh; background: ${colour}"></body>`);
  return tab;
}

const paint = (tab: Page, colour: string) => tab.evaluate((value) => (document.body.style.background = value), colour);

/** The person asks for help in the console, the technician types the Easy Connect password in theirs, the person lets them in. */
async function sessionInBrowsers(): Promise<{ person: Page; technician: Page }> {
  const person = await newPage(personContext, 'person');
  const password = await web.askForHelp(person);

  const technician = await newPage(technicianContext, 'technician');
  await technician.goto(web.runtime.httpUrl);
  const helping = technician.getByRole('form', { name: 'Help someone' });
  await helping.getByLabel('Your name').fill('Grace Hopper');
  await helping.getByLabel('Easy Connect password or invitation link').fill(password);
  await helping.getByRole('button', { name: 'Connect' }).click();

  await heading('Grace Hopper wants to help you', person).waitFor();
  await heading('Read this code to the person', technician).waitFor();
  expect(digits(await person.locator('.big-code').textContent())).toBe(digits(await technician.locator('.big-code').textContent()));
  await person.getByRole('button', { name: 'Let them in' }).click();
  await heading('Grace Hopper is helping you', person).waitFor();
  await heading('Helping Ada Lovelace', technician).waitFor();
  return { person, technician };
}

/** Waits until the middle of the technician's picture is mostly `channel` (video coding shifts colours a little). */
async function untilPictureIs(technician: Page, channel: 'red' | 'green' | 'blue'): Promise<void> {
  await technician.waitForFunction((dominant) => {
    const canvas = document.querySelector<HTMLCanvasElement>('canvas[aria-label="Ada Lovelace’s shared screen"]');
    if (!canvas || canvas.hidden) return false;
    const [red, green, blue] = canvas.getContext('2d')!.getImageData(Math.floor(canvas.width / 2), Math.floor(canvas.height / 2), 1, 1).data;
    const levels = { red: red!, green: green!, blue: blue! };
    return Object.entries(levels).every(([name, level]) => (name === dominant ? level > 160 : level < 90));
  }, channel);
}

/** The status line of the technician's screen panel. */
const screenStatus = (technician: Page, text: string) => technician.getByRole('region', { name: 'Shared by Ada Lovelace' }).getByRole('status').getByText(text, { exact: true });
const picture = (technician: Page) => technician.getByRole('img', { name: 'Ada Lovelace’s shared screen' });
/** Video frames the technician's page decoded and drew (the picture counts them). */
const framesDrawn = async (technician: Page) => Number(await picture(technician).getAttribute('data-frames-drawn'));
/** One of the live figures under the picture, by its term. */
const figure = (technician: Page, term: string) => technician.getByRole('term').filter({ hasText: term }).locator('xpath=following-sibling::dd[1]');
/** The state of each video track the person's page captured, oldest first. */
const capturedTracks = (person: Page) =>
  person.evaluate(() => (window as unknown as { shares: MediaStream[] }).shares.flatMap((stream) => stream.getVideoTracks().map((track) => track.readyState)));
/**
 * Chromium reports the policy's `camera=()` on each getDisplayMedia call (every way of picking a
 * source tried with this version), then captures as `display-capture=(self)` allows: a report, not
 * a refusal. Anything else a page reports is a problem.
 */
const CHROMIUM_CAMERA_REPORT = /^person: console: Permissions policy violation: camera is not allowed in this document\.$/;
const expectCleanPages = () => web.expectCleanPage([CHROMIUM_CAMERA_REPORT]);

describe('screen sharing, view only', () => {
  it('the technician sees the shared tab live as video; pausing stops the frames; stopping tells the technician and ends the capture', async () => {
    const tab = await colourTab('#e00020');
    const { person, technician } = await sessionInBrowsers();
    await person.getByText('You are chatting with Grace Hopper. They cannot see or control this computer.').waitFor();
    // Nothing shared yet: said so, no empty terminal, and no control to ask for.
    await technician.getByText('Ada Lovelace shares nothing yet.', { exact: false }).waitFor();
    expect(await technician.getByRole('heading', { name: 'Ada Lovelace’s terminal' }).isVisible()).toBe(false);
    expect(await technician.getByRole('button', { name: 'Ask for control' }).isVisible()).toBe(false);

    await person.getByRole('button', { name: 'Share my screen (view only)' }).click();
    await person.getByText('You are sharing your screen. Grace Hopper can see it but not control it.').waitFor();
    await screenStatus(technician, 'Ada Lovelace is sharing their screen. You can see it, but not control it.').waitFor();
    await technician.getByRole('log').getByText('Ada Lovelace started sharing their screen.').waitFor();
    await picture(technician).waitFor();
    await untilPictureIs(technician, 'red');
    expect(await framesDrawn(technician)).toBeGreaterThan(0);
    // The person's page has no terminal: the shared screen takes its place.
    expect(await technician.getByRole('heading', { name: 'Ada Lovelace’s terminal' }).isVisible()).toBe(false);
    expect(await technician.getByText('Ada Lovelace shares nothing yet.', { exact: false }).isVisible()).toBe(false);
    // A browser's screen is view only: still nothing to control.
    expect(await technician.getByRole('button', { name: 'Ask for control' }).isVisible()).toBe(false);
    await paint(tab, '#0020e0');
    await untilPictureIs(technician, 'blue');
    // The shared surface changes size: a new configuration, and the picture follows.
    const pictureSize = () => picture(technician).evaluate((canvas: HTMLCanvasElement) => `${canvas.width}×${canvas.height}`);
    expect(await pictureSize()).toBe('1280×800');
    await tab.setViewportSize({ width: 960, height: 600 });
    await expect.poll(pictureSize).toBe('960×600');
    await untilPictureIs(technician, 'blue');
    // The figures follow the stream: frames and bits arrived, and the person's side answered a ping.
    await expect.poll(() => figure(technician, 'Bit rate').textContent()).toMatch(/^[1-9]\d* kbit\/s$/);
    await expect.poll(() => figure(technician, 'Round trip').textContent()).toMatch(/^\d+ ms$/);
    await shoot('screen-share-technician', technician);
    await shoot('screen-share-person', person);

    await person.getByRole('button', { name: 'Pause sharing' }).click();
    await person.getByText('Paused: Grace Hopper sees nothing new until you resume.').waitFor();
    await screenStatus(technician, 'Ada Lovelace paused the session: the picture does not change until they resume.').waitFor();
    const drawnBeforePause = await framesDrawn(technician);
    await paint(tab, '#00c020');
    // Several of the page's frame intervals pass (a change to share is on screen); then a chat
    // message, sent after them in the same ordered stream, shows that nothing sent meanwhile is
    // still on its way.
    await person.waitForTimeout(5 * (1000 / MAX_FRAMES_PER_SECOND));
    await person.getByLabel('Message to Grace Hopper').fill('One moment, I am typing a password.');
    await person.getByLabel('Message to Grace Hopper').press('Enter');
    await technician.getByRole('log').getByText('One moment, I am typing a password.').waitFor();
    expect(await framesDrawn(technician)).toBe(drawnBeforePause);
    await untilPictureIs(technician, 'blue');

    await person.getByRole('button', { name: 'Resume sharing' }).click();
    await person.getByText('You are sharing your screen. Grace Hopper can see it but not control it.').waitFor();
    await untilPictureIs(technician, 'green');

    await person.getByRole('button', { name: 'Stop sharing' }).click();
    await person.getByText('You are chatting with Grace Hopper. They cannot see or control this computer.').waitFor();
    await screenStatus(technician, 'Ada Lovelace stopped sharing their screen.').waitFor();
    expect(await picture(technician).isVisible()).toBe(false);
    expect(await capturedTracks(person)).toEqual(['ended']);
    await person.getByRole('button', { name: 'Share my screen (view only)' }).waitFor();
    expectCleanPages();
  });

  it('the browser ending the capture (the shared tab closed) stops the share; ending the session stops the capture (frames sampled from a video element)', async () => {
    // As in browsers without MediaStreamTrackProcessor (Firefox, Safari): the page samples the capture playing in a video element.
    await personContext.addInitScript(() => Reflect.deleteProperty(window, 'MediaStreamTrackProcessor'));
    const tab = await colourTab('#e00020');
    const { person, technician } = await sessionInBrowsers();
    await person.getByRole('button', { name: 'Share my screen (view only)' }).click();
    await untilPictureIs(technician, 'red');

    await tab.close();
    await screenStatus(technician, 'Ada Lovelace stopped sharing their screen.').waitFor();
    await person.getByText('You are chatting with Grace Hopper. They cannot see or control this computer.').waitFor();
    await person.getByRole('button', { name: 'Share my screen (view only)' }).waitFor();

    await colourTab('#0020e0');
    await person.getByRole('button', { name: 'Share my screen (view only)' }).click();
    await untilPictureIs(technician, 'blue');
    expect(await capturedTracks(person)).toEqual(['ended', 'live']);
    await person.getByRole('button', { name: 'End the session' }).click();
    await heading('The session has ended', person).waitFor();
    await technician.getByText('The person you were helping ended the session.').waitFor();
    expect(await capturedTracks(person)).toEqual(['ended', 'ended']);
    expectCleanPages();
  });

  it('is allowed to capture by the console’s policy, and nothing else is', async () => {
    const { headers } = await fetch(`${web.runtime.httpUrl}/help`);
    expect(headers.get('permissions-policy')).toBe('camera=(), microphone=(), geolocation=(), display-capture=(self)');
    // The capture is read from its MediaStream and the video decoded from bytes: no URL to allow.
    expect(headers.get('content-security-policy')).not.toMatch(/img-src|media-src/);
    expect(headers.get('content-security-policy')).toMatch(/^default-src 'none';/);
  });

  it('says so plainly when the person cancels the browser’s question, and shares nothing', async () => {
    await personContext.addInitScript(() => {
      navigator.mediaDevices.getDisplayMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
    });
    const { person, technician } = await sessionInBrowsers();
    await person.getByRole('button', { name: 'Share my screen (view only)' }).click();
    await person.getByRole('alert').getByText('Nothing is shared: screen sharing was cancelled or not allowed.').waitFor();
    await person.getByText('You are chatting with Grace Hopper. They cannot see or control this computer.').waitFor();
    expect(await technician.getByRole('heading', { name: 'Shared by Ada Lovelace' }).isVisible()).toBe(false);
    expectCleanPages();
  });
});

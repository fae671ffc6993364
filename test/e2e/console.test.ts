import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import { beforeEach, describe, expect, it } from 'vitest';
import type { KeyInput, PointerInput, VideoChunk } from '../../sdk/assist-messages.js';
import { acceptHelp, joinHelp, requestHelp, type AgentSession } from '../../sdk/node.js';
import { fastAssistOptions, record, utf8, type Recorded, useSdkSessions, whenRecorded } from '../support/assist.js';
import { digits, useConsoleInBrowser } from '../support/browser.js';

// The web console in headless Chromium against the local runtime, with the other side driven by the
// SDK in this process: the person asking for help in the browser, helper codes both ways, and what
// the page may do. The technician in the browser with the CLI as the person is cli-agent.test.ts.
// Screenshots of the main screens go to test-artifacts/e2e/.

const web = useConsoleInBrowser();
const { shoot, heading, expectCleanPage } = web;

let page: Page;
const sdkSessions = useSdkSessions();

beforeEach(() => {
  page = web.page;
});

/** The person's side waits for the technician, checks nothing, and lets them in (as the CLI would after its prompt). */
async function expertThrough(help: AgentSession, seen: Recorded): Promise<string> {
  await whenRecorded(() => help.phase === 'deciding', 'the technician to get through the handshake');
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
    await whenRecorded(() => expert.verificationCode !== undefined, 'the technician’s verification code');
    expect(digits(await page.locator('.big-code').textContent())).toBe(expert.verificationCode);
    await shoot('person-3-decide');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Let them in');
    await page.keyboard.press('Enter');

    await heading('Grace Hopper is helping you').waitFor();
    await whenRecorded(() => expert.phase === 'active', 'the technician to be let in');
    expect(seen.log).toContain('approved {"mode":"view"}');
    await expert.chat('Hello Ada, what is the problem?');
    await page.getByRole('log').getByText('Hello Ada, what is the problem?').waitFor();
    await page.keyboard.press('Tab'); // End the session
    await page.keyboard.press('Tab'); // Add 30 minutes
    await page.keyboard.press('Tab'); // the message field
    await page.keyboard.type('The printer is offline.');
    await page.keyboard.press('Enter');
    await whenRecorded(() => seen.log.includes('chat The printer is offline.'), 'the technician to get the reply');
    await shoot('person-4-session');

    // The person adds time: the page says until when, and the technician's side learns the new limit.
    const limit = expert.client.activation!.expiresAt;
    await page.getByRole('button', { name: 'Add 30 minutes' }).click();
    await page.getByRole('log').getByText(/^You added time: the session can now last until /).waitFor();
    await whenRecorded(() => expert.client.activation!.expiresAt === limit + 30 * 60, 'the technician to learn the new limit');
    await page.getByText(/^Time left: 2 h 2\d min$/).waitFor();

    await page.getByRole('button', { name: 'End the session' }).focus();
    await page.keyboard.press('Enter');
    await heading('The session has ended').waitFor();
    await page.getByText('You ended the session.').waitFor();
    await whenRecorded(() => seen.ended !== undefined, 'the technician to learn the session ended');
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
    await whenRecorded(() => seen.ended !== undefined, 'the technician to be refused');
    expect(seen.log).toContain('denied');
    expect(seen.ended!.reason).toBe('denied');
    expectCleanPage();
  });

  it('withdraws an invitation: its password then gets nobody in', async () => {
    const password = await web.askForHelp();
    await page.getByRole('button', { name: 'Withdraw the invitation' }).click();
    await heading('The session has ended').waitFor();
    await page.getByText('You withdrew the invitation.').waitFor();
    await expect(joinHelp({ relay: web.runtime.httpUrl, invitation: password, name: 'Grace Hopper', ...fastAssistOptions })).rejects.toMatchObject({ code: 'session-not-found' });
    expectCleanPage();
  });
});

/** The technician (Grace Hopper) creates a helper code on the start page: the code it shows. */
async function helperCodeFromPage(): Promise<string> {
  await page.goto(`${web.runtime.httpUrl}/`);
  const offer = page.getByRole('form', { name: 'Create a helper code' });
  await offer.getByLabel('Your name').fill('Grace Hopper');
  await offer.getByRole('button', { name: 'Create a helper code' }).click();
  await heading('Read this code to the person').waitFor();
  return (await page.locator('.big-code').textContent())!;
}

describe('helper codes (the technician gives the person a code)', () => {
  it('the technician creates a code in the browser, the person types it, both see the same verification code', async () => {
    const code = await helperCodeFromPage();
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
    await whenRecorded(() => seen.ended !== undefined, 'the person to learn the technician left');
    expect(seen.ended!.reason).toBe('ended-by-expert');
    expectCleanPage();
  });
});

describe('an invitation link opened in the browser', () => {
  it('is checked on the page before any password is asked: cut short or damaged, it says so', async () => {
    const request = await requestHelp({ relay: web.runtime.httpUrl, kind: 'file', name: 'Ada Lovelace', ...fastAssistOptions });
    sdkSessions.push(request);
    if (request.invitation.kind !== 'file') throw new Error('a file invitation was asked for');
    const link = request.invitation.relayUrl;
    const [beforeHash] = link.split('#');
    for (const [damaged, why] of [
      [beforeHash!, 'The link must end with # and a 26-character code.'],
      [`${beforeHash}#`, 'The link must end with # and a 26-character code.'],
      [link.slice(0, -3), 'This is not an invitation link: the invitation secret has 23 symbols; expected 26.'],
      [`${link.slice(0, -1)}!`, 'is not allowed in a invitation secret'],
    ] as const) {
      await page.goto('about:blank');
      await page.goto(damaged);
      await heading('This link is incomplete or damaged').waitFor();
      await page.getByText(why).waitFor();
      expect(await page.getByLabel('Password', { exact: true }).count()).toBe(0);
    }
    await shoot('technician-damaged-link');

    await page.goto('about:blank');
    await page.goto(link);
    await heading('Someone asked you for help').waitFor();
    await page.getByLabel('Password', { exact: true }).waitFor();
    expectCleanPage();
  });
});

/** One frame of a single colour, encoded as the assist command would (VP8 with @napi-rs/webcodecs): a key frame. */
async function colourKeyFrame(width: number, height: number, [red, green, blue]: [number, number, number], timestamp: number): Promise<VideoChunk> {
  const { VideoEncoder, VideoFrame } = await import('@napi-rs/webcodecs');
  const chunks: VideoChunk[] = [];
  const encoder = new VideoEncoder({
    output: (chunk) => {
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      chunks.push({ key: chunk.type === 'key', timestamp, data });
    },
    error: (error) => {
      throw error;
    },
  });
  encoder.configure({ codec: 'vp8', width, height, bitrate: 1_000_000 });
  const rgba = new Uint8Array(width * height * 4);
  for (let offset = 0; offset < rgba.length; offset += 4) rgba.set([red, green, blue, 255], offset);
  const frame = new VideoFrame(rgba, { format: 'RGBA', codedWidth: width, codedHeight: height, timestamp });
  encoder.encode(frame, { keyFrame: true });
  frame.close();
  await encoder.flush();
  encoder.close();
  return chunks[0]!;
}

describe('a desktop shared as video (the technician in the browser)', () => {
  it('shows the desktop, the pointer and the figures; with control the picture takes the mouse (fitted and scrolled) and the keyboard; without, or paused, nothing goes', async () => {
    const person = await acceptHelp({ relay: web.runtime.httpUrl, code: await helperCodeFromPage(), name: 'Ada Lovelace', ...fastAssistOptions });
    sdkSessions.push(person);
    const seen = record(person);
    const pointers: PointerInput[] = [];
    const keys: KeyInput[] = [];
    let keyFramesRequested = 0;
    person.on('pointer', (pointer) => pointers.push(pointer));
    person.on('key', (key) => keys.push(key));
    person.on('key-frame-requested', () => keyFramesRequested++);
    await expertThrough(person, seen);
    await person.approve('view');
    await heading('Helping Ada Lovelace').waitFor();
    // Right after approval the page says what it decodes, best first (this Chromium decodes H.264).
    await whenRecorded(() => person.expertCodecs !== undefined, 'the technician’s codecs');
    expect(person.expertCodecs).toEqual(['avc1.640028', 'vp8']);

    const video = { width: 1920, height: 1080 };
    await person.startVideoShare({ source: 'desktop', codec: 'vp8', ...video, controllable: true });
    expect(await person.sendVideoChunk(await colourKeyFrame(video.width, video.height, [220, 0, 30], 0))).toBe(true);
    await person.sendCursor({ x: 960, y: 540, visible: true });
    const desktop = page.getByRole('region', { name: 'Shared by Ada Lovelace' });
    const status = (text: string) => desktop.getByRole('status').getByText(text, { exact: true }).waitFor();
    await status('Ada Lovelace is sharing their desktop. You can see it; ask for control to use its mouse and keyboard.');
    await page.getByRole('log').getByText('Ada Lovelace started sharing their desktop.').waitFor();
    const picture = page.getByLabel('Ada Lovelace’s desktop', { exact: true });
    await page.getByRole('img', { name: 'Ada Lovelace’s desktop' }).waitFor();
    /** The colour in the middle of the picture, if one channel clearly dominates (video coding shifts colours a little). */
    const centre = () =>
      picture.evaluate((canvas: HTMLCanvasElement) => {
        const [red, green, blue] = canvas.getContext('2d')!.getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data;
        const levels = { red: red!, green: green!, blue: blue! };
        return Object.entries(levels).find(([name, level]) => level > 160 && Object.entries(levels).every(([other, value]) => other === name || value < 90))?.[0];
      });
    await expect.poll(centre).toBe('red');
    expect(Number(await picture.getAttribute('data-frames-drawn'))).toBe(1);
    await desktop.locator('.desktop-cursor').waitFor();
    await expect.poll(() => desktop.getByRole('term').filter({ hasText: 'Round trip' }).locator('xpath=following-sibling::dd[1]').textContent()).toMatch(/^\d+ ms$/);
    expect(await desktop.getByRole('group', { name: 'Send keys' }).isVisible()).toBe(false);
    // View only: the picture takes no input at all.
    await picture.click();
    await page.keyboard.press('a');

    await person.grantControl();
    await status('You are controlling Ada Lovelace’s desktop: click the picture to use its mouse and keyboard. Shift+Tab moves out.');
    await page.getByRole('application', { name: 'Ada Lovelace’s desktop' }).waitFor();
    await shoot('technician-desktop-control');
    // Fitted: the picture is narrower than the video, and a click lands where it points.
    const fitted = await picture.evaluate((canvas) => ({ width: canvas.clientWidth, height: canvas.clientHeight }));
    expect(fitted.width).toBeLessThan(video.width);
    await picture.click({ position: { x: fitted.width / 4, y: fitted.height / 2 } });
    await whenRecorded(() => pointers.some((pointer) => pointer.action === 'up'), 'the click to reach the person’s side');
    const down = pointers.find((pointer) => pointer.action === 'down')!;
    expect(down).toMatchObject({ button: 'left' });
    expect(Math.abs(down.x - video.width / 4)).toBeLessThanOrEqual(3);
    expect(Math.abs(down.y - video.height / 2)).toBeLessThanOrEqual(3);

    // The keyboard: keys with their text; Tab stays in the picture, Shift+Tab leaves it (and releases Shift there).
    await page.keyboard.press('a');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Shift+Tab');
    expect(await picture.evaluate((canvas) => document.activeElement === canvas)).toBe(false);
    await whenRecorded(() => keys.length === 6, 'the keys to reach the person’s side');
    expect(keys).toEqual([
      { action: 'down', code: 'KeyA', text: 'a' },
      { action: 'up', code: 'KeyA', text: 'a' },
      { action: 'down', code: 'Tab', text: '' },
      { action: 'up', code: 'Tab', text: '' },
      { action: 'down', code: 'ShiftLeft', text: '' },
      { action: 'up', code: 'ShiftLeft', text: '' },
    ]);
    await desktop.getByRole('group', { name: 'Send keys' }).getByRole('button', { name: 'Ctrl+Alt+Del' }).click();
    await whenRecorded(() => keys.length === 12, 'the combination to reach the person’s side');
    expect(keys.slice(6).map(({ action, code }) => `${action} ${code}`)).toEqual(['down ControlLeft', 'down AltLeft', 'down Delete', 'up Delete', 'up AltLeft', 'up ControlLeft']);

    // Full screen, and back.
    const fullScreen = desktop.getByRole('button', { name: 'Full screen' });
    await fullScreen.click();
    await expect.poll(() => page.evaluate(() => document.fullscreenElement?.className)).toMatch(/^desktop\b/);
    await expect.poll(() => fullScreen.getAttribute('aria-pressed')).toBe('true');
    await fullScreen.click();
    await expect.poll(() => page.evaluate(() => document.fullscreenElement)).toBeNull();

    // Actual size, scrolled: a point of the viewport maps through the scroll.
    await desktop.getByRole('button', { name: 'Actual size' }).click();
    const viewport = desktop.locator('.desktop-viewport');
    await viewport.scrollIntoViewIfNeeded();
    await viewport.evaluate((element) => element.scrollTo(500, 300));
    const shown = (await viewport.boundingBox())!;
    pointers.length = 0;
    await page.mouse.click(shown.x + 10, shown.y + 20);
    await whenRecorded(() => pointers.some((pointer) => pointer.action === 'up'), 'the click at actual size');
    // The viewport's 5-pixel padding and the picture's 1-pixel border are scrolled away with it.
    expect(pointers.find((pointer) => pointer.action === 'down')).toMatchObject({ x: 500 + 10 - 6, y: 300 + 20 - 6 });

    // A decoder that fails asks for a key frame, and shows the next one.
    await person.sendVideoChunk({ key: false, timestamp: 1000, data: new Uint8Array(600).fill(0xa5) });
    await whenRecorded(() => keyFramesRequested > 0, 'the technician’s page to ask for a key frame');
    await person.sendVideoChunk(await colourKeyFrame(video.width, video.height, [0, 30, 220], 2000));
    await expect.poll(centre).toBe('blue');

    // Control taken back, then a pause: the picture stops taking input at once.
    await person.revokeControl();
    await status('Ada Lovelace is sharing their desktop. You can see it; ask for control to use its mouse and keyboard.');
    await person.grantControl();
    await person.pause();
    await status('Ada Lovelace paused the session: the picture does not change until they resume.');
    pointers.length = 0;
    const keysBefore = keys.length;
    await picture.click();
    await page.keyboard.press('b');
    // A chat message sent after those, in the same ordered stream, arrives: nothing came before it.
    await page.getByLabel('Message to Ada Lovelace').fill('Done clicking.');
    await page.getByLabel('Message to Ada Lovelace').press('Enter');
    await whenRecorded(() => seen.log.includes('chat Done clicking.'), 'the technician’s chat');
    expect(pointers).toEqual([]);
    expect(keys.length).toBe(keysBefore);
    expect(person.droppedInputEvents).toBe(0);

    await person.resume();
    await person.stopScreenShare();
    await status('Ada Lovelace stopped sharing their desktop.');
    await page.getByRole('log').getByText('Ada Lovelace stopped sharing their desktop.').waitFor();
    expect(await picture.isVisible()).toBe(false);
    expectCleanPage();
  });
});

describe('what the page may do', () => {
  it('runs no inline script and connects nowhere but the relay (Content-Security-Policy)', async () => {
    const response = await page.goto(`${web.runtime.httpUrl}/help`);
    expect(response?.headers()['content-security-policy']).toContain(`connect-src 'self' ${new URL(web.runtime.wsUrl).origin};`);
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
    expectCleanPage();
  });

  it('works at every name of this machine: localhost, 127.0.0.1 and [::1]', async () => {
    const { port } = new URL(web.runtime.httpUrl);
    for (const host of ['localhost', '127.0.0.1', '[::1]']) {
      await page.goto(`http://${host}:${port}/help`);
      const ask = page.getByRole('form', { name: 'Ask for help' });
      await ask.getByLabel('Your name').fill('Ada Lovelace');
      await ask.getByRole('button', { name: 'Create the invitation' }).click();
      await heading('Read this password to the technician').waitFor();
      await page.getByRole('button', { name: 'Withdraw the invitation' }).click();
      await heading('The session has ended').waitFor();
    }
    expectCleanPage();
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

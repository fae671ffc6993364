// The whole desktop share on the real SDK over the in-process relay (the real handlers on memory adapters), with a fake screen, encoder and input
// device: what the technician's side receives, and what lands on this machine, as the person
// approves, pauses, grants and takes back control, loses the monitor, and ends.
import { describe, expect, it } from 'vitest';
import { prepareDesktop, type DesktopEvent } from '../../../cli/desktop/desktop-share.js';
import type { CursorShape, CursorState, ExpertSession, VideoChunk, VideoConfig } from '../../../sdk/node.js';
import { until, useCleanups } from '../../support/harness.js';
import { decidingPair, sendRaw } from '../sdk/support/assist-pair.js';
import { ManualClock } from '../sdk/support/manual-clock.js';
import type { ScreenWatch } from '../../../cli/desktop/ports.js';
import { cursorImage, FakeEncoders, FakeInput, FakeScreen, FakeWatch, holdEncoder, picture } from './fakes.js';

const defer = useCleanups();
const FRAME_MS = 1000 / 15;

function watch(expert: ExpertSession) {
  const seen = { configs: [] as VideoConfig[], chunks: [] as VideoChunk[], cursors: [] as CursorState[], shares: [] as string[], stopReasons: [] as (string | undefined)[], shapes: [] as CursorShape[], chats: [] as string[] };
  expert.on('video-config', (config) => seen.configs.push(config));
  expert.on('video-chunk', (chunk) => seen.chunks.push(chunk));
  expert.on('cursor', (cursor) => seen.cursors.push(cursor));
  expert.on('cursor-shape', (shape) => seen.shapes.push(shape));
  expert.on('screen-share', (share) => {
    seen.shares.push(share.state);
    if (share.state === 'stopped') seen.stopReasons.push(share.reason);
  });
  expert.on('chat', (text) => seen.chats.push(text));
  return seen;
}

async function sharing({
  notifiesChanges = false,
  maxFps = 15,
  capture,
  pointerPosition,
}: { notifiesChanges?: boolean; maxFps?: number; capture?: ScreenWatch['capture']; pointerPosition?: ScreenWatch['pointerPosition'] } = {}) {
  const pair = await decidingPair(defer);
  const clock = new ManualClock();
  const screen = new FakeScreen();
  const input = new FakeInput();
  const encoders = new FakeEncoders();
  const display = Object.assign(new FakeWatch(), { notifiesChanges, capture, pointerPosition });
  const events: DesktopEvent[] = [];
  const prepared = prepareDesktop({ maxFps }, { platform: 'linux', capture: screen, input, openEncoder: encoders.open, openWatch: async () => display }, clock);
  const seen = watch(pair.expert);
  await pair.agent.approve('view');
  const share = await prepared.start(pair.agent, (event) => events.push(event));
  defer(() => share.stop());
  await until(() => seen.configs.length === 1, 'the video configuration');
  /** Runs the share's timers for `frames` frame intervals. */
  const run = (frames: number) => clock.advance(frames * FRAME_MS);
  return { ...pair, share, clock, screen, input, display, encoders, events, seen, run };
}

describe('a desktop share on a session', () => {
  it("captures through the display's own connection where it can (X11 GetImage, BGRX), not the capture package", async () => {
    const areas: unknown[] = [];
    const { seen, run, screen, encoders } = await sharing({ capture: async (area) => (areas.push(area), picture(77, 64, 36, 'BGRX')) });
    await run(1);
    await until(() => seen.chunks.length === 1, 'the first frame');
    expect(screen.captures).toBe(0);
    expect(areas[0]).toMatchObject({ x: 0, y: 0, width: 1920, height: 1080 });
    expect(encoders.encoded[0]).toMatchObject({ format: 'BGRX', red: 0 }); // the first byte is blue
  });

  it('starts with a key frame of the monitor, then sends nothing while the screen does not change', async () => {
    const { seen, events, run, clock, screen } = await sharing();
    expect(seen.configs).toEqual([{ source: 'desktop', codec: 'vp8', width: 1280, height: 720, controllable: true }]);
    expect(events).toEqual([{ event: 'desktop-share', state: 'started', monitor: 1, width: 1280, height: 720, codec: 'vp8' }]);
    await run(1);
    await until(() => seen.chunks.length === 1, 'the first frame');
    expect(seen.chunks[0]).toMatchObject({ key: true, data: Uint8Array.of(10, 1) });
    await run(20);
    screen.current = picture(99, 64, 36);
    await clock.advance(250); // idle by now: the screen is looked at every 250 ms
    await until(() => seen.chunks.length === 2, 'the changed picture');
    expect(seen.chunks[1]).toMatchObject({ key: false, data: Uint8Array.of(99, 0) });
  });

  it('captures a screen that changes all the time at most --max-fps times a second', async () => {
    const capturedInTwoSeconds = async (maxFps: number) => {
      const { clock, screen, seen } = await sharing({ maxFps });
      screen.onCapture = () => (screen.current = picture(10 + (screen.captures % 200), 64, 36));
      await clock.advance(0);
      await until(() => seen.chunks.length === 1, 'the first frame');
      const before = screen.captures;
      for (let step = 0; step < 40; step++) {
        await clock.advance(50);
        // Each changed picture reaches the technician before time moves on: only the cap holds captures back.
        await until(() => seen.chunks.length === screen.captures, 'the pictures captured so far');
      }
      return screen.captures - before;
    };
    // One tick every 1000 / maxFps ms, counted from the first: the last may fall just past the two seconds.
    for (const maxFps of [5, 15]) expect(await capturedInTwoSeconds(maxFps)).toBeOneOf([2 * maxFps - 1, 2 * maxFps]);
  });

  it('looks at an idle screen four times a second after a second without change, and at once on the technician’s input', async () => {
    const { agent, expert, seen, run, clock, screen, input } = await sharing();
    await run(1);
    await until(() => seen.chunks.length === 1, 'the first frame');
    await clock.advance(1000); // unchanged for a second: at full rate meanwhile
    const idleFrom = screen.captures;
    await clock.advance(2000);
    expect(screen.captures - idleFrom).toBe(8);

    await agent.grantControl();
    await until(() => expert.mayControlDesktop, 'control to reach the expert');
    const beforeInput = screen.captures;
    await expert.sendPointer({ action: 'move', x: 1, y: 1 });
    await until(() => input.calls.length === 1, 'the pointer');
    await clock.advance(0);
    expect(screen.captures).toBe(beforeInput + 1);
  });

  it('where the display tells of changes (X DAMAGE), looks at once when told and at an idle screen only every 2 s', async () => {
    const { seen, run, clock, screen, display } = await sharing({ notifiesChanges: true });
    await run(1);
    await until(() => seen.chunks.length === 1, 'the first frame');
    await clock.advance(1000);
    const idleFrom = screen.captures;
    await clock.advance(4000);
    expect(screen.captures - idleFrom).toBe(2);
    // A change: captured as soon as the frame interval since the last capture allows, not at the next keepalive.
    screen.current = picture(55, 64, 36);
    display.changed();
    await clock.advance(FRAME_MS);
    await until(() => seen.chunks.length === 2, 'the changed picture');
    expect(seen.chunks[1]).toMatchObject({ data: Uint8Array.of(55, 0) });
  });

  it('while the encoder works, the next tick waits for it: the screen is captured as it is once the encoder is done, not before', async () => {
    const { seen, run, screen, encoders } = await sharing();
    await run(1);
    await until(() => seen.chunks.length === 1, 'the first frame');
    const release = holdEncoder(encoders);
    let shown = 0;
    const changing = async (frames: number) => {
      for (let index = 0; index < frames; index++) {
        screen.current = picture(++shown, 64, 36);
        await run(1);
      }
    };
    const before = screen.captures;
    await changing(1);
    await until(() => encoders.inFlight === 1, 'an encode to start');
    await changing(3);
    // Only the picture in the encoder: no other is taken to wait beside it and grow old.
    expect(screen.captures - before).toBe(1);
    release();
    await until(() => seen.chunks.length === 3, 'the picture after the encoder was free');
    // Pictures 2 and 3 were never captured: what the screen showed when the encoder was free was picture 4.
    expect(seen.chunks.map((chunk) => chunk.data[0])).toEqual([10, 1, 4]);
    expect(screen.captures - before).toBe(2);
    expect(encoders.changedMidEncode).toBe(0);
  });

  it('captures nothing while paused; on resume the picture restarts from a key frame', async () => {
    const { agent, seen, run, screen } = await sharing();
    await run(1);
    await until(() => seen.chunks.length === 1, 'the first frame');
    await agent.pause();
    const captures = screen.captures;
    screen.current = picture(77, 64, 36);
    await run(10);
    expect(screen.captures).toBe(captures);
    await agent.resume();
    await run(1);
    await until(() => seen.chunks.length === 2, 'the frame after the resume');
    expect(seen.chunks[1]).toMatchObject({ key: true, data: Uint8Array.of(77, 1) });
  });

  it('answers a key-frame request with a key frame of the unchanged screen', async () => {
    const { expert, seen, run } = await sharing();
    await run(1);
    await until(() => seen.chunks.length === 1, 'the first frame');
    await expert.requestKeyFrame();
    await until(() => (expert.client.stats.stream?.inFlightPackets ?? 1) === 0, 'the request to arrive');
    await run(1);
    await until(() => seen.chunks.length === 2, 'the key frame');
    expect(seen.chunks.map((chunk) => chunk.key)).toEqual([true, true]);
  });

  it('sends the cursor when it moves on the shared monitor, in video coordinates', async () => {
    const { seen, run, input } = await sharing();
    input.position = { x: 960, y: 540 };
    await run(1);
    await until(() => seen.cursors.length === 1, 'the cursor');
    await run(5);
    input.position = { x: 1919, y: 0 };
    await run(1);
    await until(() => seen.cursors.length === 2, 'the cursor move');
    expect(seen.cursors).toEqual([
      { x: 640, y: 360, visible: true },
      { x: 1279, y: 0, visible: true },
    ]);
  });

  it('asks the display where the pointer is where it can (X11 QueryPointer), not the input package, whose query blocks', async () => {
    let pointer = { x: 960, y: 540 };
    const { seen, run, input } = await sharing({ pointerPosition: async () => pointer });
    input.position = { x: 0, y: 0 }; // what the input package would say: never asked
    await run(1);
    await until(() => seen.cursors.length === 1, 'the cursor');
    pointer = { x: 1919, y: 0 };
    await run(1);
    await until(() => seen.cursors.length === 2, 'the cursor move');
    expect(seen.cursors).toEqual([
      { x: 640, y: 360, visible: true },
      { x: 1279, y: 0, visible: true },
    ]);
  });

  it('sends the pointer’s shape when it changes: its pixels the first time, its id alone when it comes back', async () => {
    const { seen, run, display, expertClient, agent } = await sharing();
    const received: unknown[] = [];
    expertClient.on('message', (bytes) => received.push(bytes[1] === 24 ? bytes.length : undefined));
    display.cursor = cursorImage(1, 2, [255, 0, 0]);
    await run(1);
    await until(() => seen.shapes.length === 1, 'the first shape');
    expect(seen.shapes[0]).toEqual({ width: 2, height: 2, hotX: 1, hotY: 1, rgba: Uint8Array.of(...Array(4).fill([255, 0, 0, 255]).flat()) });
    await run(3); // unchanged: not sent again
    display.cursor = cursorImage(2, 3, [0, 0, 255]);
    await run(1);
    await until(() => seen.shapes.length === 2, 'the second shape');
    display.cursor = cursorImage(3, 2, [255, 0, 0]); // the first shape again, under another serial
    await run(1);
    await until(() => seen.shapes.length === 3, 'the first shape again');
    expect(seen.shapes[2]).toEqual(seen.shapes[0]);
    // On the wire: two definitions (header, id, size, hot spot and pixels), then the id alone.
    expect(received.filter(Boolean)).toEqual([2 + 6 + 16, 2 + 6 + 36, 2 + 2]);
    // Paused, nothing is sent; on resume the technician gets the shape again.
    await agent.pause();
    display.cursor = cursorImage(4, 3, [0, 0, 255]);
    await run(2);
    expect(seen.shapes).toHaveLength(3);
    await agent.resume();
    await run(1);
    await until(() => seen.shapes.length === 4, 'the shape after the resume');
    expect(seen.shapes[3]).toEqual(seen.shapes[1]);
  });

  it('applies input only with control, lets go of what is held when control is taken back, and reports what was dropped', async () => {
    const { agent, expert, expertClient, input, events, share } = await sharing();
    // Without control the expert's side does not even send; a side that broke the rules would be dropped.
    expect(await expert.sendPointer({ action: 'move', x: 10, y: 10 })).toBe(false);
    await sendRaw(expertClient, { type: 'pointer', action: 'move', x: 10, y: 10 });
    await until(() => events.some((event) => event.event === 'input-dropped'), 'the dropped input to be reported');
    expect(events.find((event) => event.event === 'input-dropped')).toEqual({ event: 'input-dropped', count: 1, why: 'control is not granted' });

    await agent.grantControl();
    await until(() => expert.mayControlDesktop, 'control to reach the expert');
    await expert.sendPointer({ action: 'down', x: 640, y: 360, button: 'left' });
    await expert.sendKey({ action: 'down', code: 'ShiftLeft', text: '' });
    await until(() => input.calls.length === 3, 'the input');
    expect(input.calls).toEqual(['move 960,540', 'left down', 'key shift down']);

    await agent.revokeControl();
    share.releaseInput(); // as the assist command does after taking control back
    expect(input.calls.slice(3)).toEqual(['key shift up', 'left up']);
    await sendRaw(expertClient, { type: 'pointer', action: 'up', x: 640, y: 360, button: 'left' });
    await until(() => agent.droppedInputEvents === 2, 'the late input to be dropped');
    expect(input.calls).toHaveLength(5);
  });

  it('a monitor that disappears stops the share and tells both sides; the session goes on', async () => {
    const { agent, seen, run, screen, events } = await sharing();
    await run(1);
    await until(() => seen.chunks.length === 1, 'the first frame');
    screen.failure = new Error('no such monitor');
    screen.listed = [];
    screen.current = picture(1, 64, 36);
    await run(1);
    await until(() => seen.shares.includes('stopped'), 'the share to stop');
    expect(events.slice(1)).toEqual([
      { event: 'desktop-error', code: 'monitor-gone', message: expect.stringContaining('monitor 1 (screen) is gone, so the desktop share stopped') },
      { event: 'desktop-share', state: 'stopped', monitor: 1, reason: 'monitor-gone' },
    ]);
    // The technician learns why from the stop itself, not from a chat message.
    expect(seen.stopReasons).toEqual(['monitor-gone']);
    expect(seen.chats).toEqual([]);
    expect(agent.phase).toBe('active');
    const captures = screen.captures;
    await run(10);
    expect(screen.captures).toBe(captures);
  });

  it('a share the person stops says so to the technician', async () => {
    const { share, seen, events } = await sharing();
    await share.stop('by-person');
    await until(() => seen.shares.includes('stopped'), 'the share to stop');
    expect(seen.stopReasons).toEqual(['by-person']);
    expect(events.at(-1)).toEqual({ event: 'desktop-share', state: 'stopped', monitor: 1, reason: 'by-person' });
  });

  it('stops when the session ends', async () => {
    const { agent, run, screen, events } = await sharing();
    await agent.end();
    await until(() => events.some((event) => event.event === 'desktop-share' && event.state === 'stopped'), 'the share to stop');
    const captures = screen.captures;
    await run(10);
    expect(screen.captures).toBe(captures);
  });
});

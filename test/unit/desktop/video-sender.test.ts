// The video sender against a session that keeps the SDK's video rules: it captures only when video
// may flow, sends only changed pictures (and key frames when the other side needs one), holds back
// while too much waits unacknowledged, and chooses codec, size and bitrate.
import { describe, expect, it } from 'vitest';
import { DesktopError } from '../../../cli/desktop/errors.js';
import { MAX_BITRATE, MIN_BITRATE, VideoSender, type Captured } from '../../../cli/desktop/video-sender.js';
import type { CodecChoice } from '../../../cli/desktop/codecs.js';
import type { MonitorInfo } from '../../../cli/desktop/ports.js';
import { VIDEO_CODECS } from '../../../sdk/video-pacing.js';
import { FakeEncoders, FakeScreen, FakeVideoSession, holdEncoder, monitor, picture, StepClock } from './fakes.js';

function sender(options: { monitor?: MonitorInfo; expertCodecs?: string[]; maxFps?: number; codec?: CodecChoice } = {}) {
  const clock = new StepClock();
  const session = new FakeVideoSession();
  session.expertCodecs = options.expertCodecs;
  const shared = options.monitor ?? monitor();
  const screen = new FakeScreen(shared);
  const encoders = new FakeEncoders(clock);
  const configured: string[] = [];
  const video = new VideoSender({
    session,
    capture: screen,
    openEncoder: encoders.open,
    monitor: shared,
    maxFps: options.maxFps ?? 15,
    codec: options.codec,
    clock,
    onConfigured: ({ codec, width, height }) => configured.push(`${codec} ${width}x${height}`),
  });
  return { clock, session, screen, encoders, video, configured };
}

/** One tick, captured and (if queued) encoded and sent: its outcome. */
async function frame(setup: ReturnType<typeof sender>) {
  return encodedAs(await setup.video.capture());
}

/** What became of a captured picture once the encoder is done with it. */
async function encodedAs(captured: Captured) {
  return captured.outcome === 'queued' ? await captured.encoded : captured.outcome;
}

/** The pictures sent so far, as [red value, key frame]. */
const sentPictures = (setup: ReturnType<typeof sender>) => setup.session.chunks.map((chunk) => [chunk.data[0], chunk.key]);

/** A configured sender that has sent its first picture. */
async function sending(options?: Parameters<typeof sender>[0]) {
  const setup = sender(options);
  await setup.video.configure();
  await frames(setup, 1);
  return setup;
}

/**
 * The encoder held busy with picture 20, the next tick's capture waiting for it while the screen
 * moves on to picture 30; `release` lets the encoder go on.
 */
async function busyAndNextWaiting(setup: ReturnType<typeof sender>) {
  const release = holdEncoder(setup.encoders);
  setup.screen.current = picture(20, 64, 36);
  const busy = await setup.video.capture();
  const next = setup.video.capture();
  setup.screen.current = picture(30, 64, 36);
  return { release, busy, next };
}

/** Runs `count` frame intervals one after another; returns their outcomes. */
async function frames(setup: ReturnType<typeof sender>, count: number) {
  const outcomes = [];
  for (let index = 0; index < count; index++) {
    outcomes.push(await frame(setup));
    setup.clock.advanceBy(67);
  }
  return outcomes;
}

describe('the video sender', () => {
  it('captures nothing until the share is configured, nor while the session is paused or not active', async () => {
    const setup = sender();
    expect(await frame(setup)).toBe('not-ready');
    await setup.video.configure();
    setup.session.paused = true;
    expect(await frames(setup, 3)).toEqual(['not-ready', 'not-ready', 'not-ready']);
    setup.session.paused = false;
    setup.session.active = false;
    expect(await frame(setup)).toBe('not-ready');
    expect(setup.screen.captures).toBe(0);
    expect(setup.session.chunks).toEqual([]);
  });

  it('starts with a key frame, then sends only changed pictures: an idle screen sends nothing', async () => {
    const setup = sender();
    await setup.video.configure();
    expect(await frames(setup, 4)).toEqual(['sent', 'unchanged', 'unchanged', 'unchanged']);
    setup.screen.current = picture(20, 64, 36);
    expect(await frames(setup, 2)).toEqual(['sent', 'unchanged']);
    expect(sentPictures(setup)).toEqual([
      [10, true],
      [20, false],
    ]);
    // Timestamps are microseconds since the share started, increasing.
    const [first, second] = setup.session.chunks;
    expect(second!.timestamp).toBeGreaterThan(first!.timestamp);
  });

  it("gives a picture's pixels back to the capture once it is neither encoded nor compared with any more, never sooner, and once", async () => {
    const setup = sender();
    // Each capture its own copy of the screen; released pixels are overwritten at once, as a reused buffer would be.
    const released: number[] = [];
    let captures = 0;
    const capture = setup.screen.capture.bind(setup.screen);
    setup.screen.capture = async () => {
      const shown = await capture();
      const pixels = shown.pixels.slice();
      const number = ++captures;
      return { ...shown, pixels, release: () => (released.push(number), pixels.fill(0xee)) };
    };
    await setup.video.configure();
    // 1 sent; 2 the same picture: given back at once, and compared with 1's pixels intact.
    expect(await frames(setup, 2)).toEqual(['sent', 'unchanged']);
    expect(released).toEqual([2]);
    // 3 sent: 1 is given back (encoded, and no longer the picture to compare with), 3 is kept.
    setup.screen.current = picture(20, 64, 36);
    expect(await frames(setup, 2)).toEqual(['sent', 'unchanged']);
    expect(released).toEqual([2, 1, 4]);
    // 5 waits for the encoder while 6 is captured: 5 is kept until its encode is done, though 6 replaced it.
    const release = holdEncoder(setup.encoders);
    setup.screen.current = picture(30, 64, 36);
    const busy = await setup.video.capture();
    setup.screen.current = picture(40, 64, 36);
    const next = setup.video.capture();
    release();
    await encodedAs(busy);
    await encodedAs(await next);
    expect(sentPictures(setup).map(([red]) => red)).toEqual([10, 20, 30, 40]);
    expect(released).toEqual([2, 1, 4, 3, 5]);
  });

  it('sends a key frame of an unchanged picture when the other side needs one (a request, a resume)', async () => {
    const setup = sender();
    await setup.video.configure();
    await frames(setup, 2);
    setup.session.keyFrameNeeded = true; // what a key-frame-request or a resume does
    expect(await frames(setup, 2)).toEqual(['sent', 'unchanged']);
    expect(setup.session.chunks.map((chunk) => chunk.key)).toEqual([true, true]);
  });

  it('a chunk the session dropped is sent again as a key frame', async () => {
    const setup = await sending();
    setup.screen.current = picture(30, 64, 36);
    // A pause and a resume between the encoding and the send: the session drops the chunk.
    const send = setup.session.sendVideoChunk.bind(setup.session);
    setup.session.sendVideoChunk = async (chunk) => {
      setup.session.paused = true;
      const sent = await send(chunk);
      setup.session.paused = false;
      return sent;
    };
    expect(await frame(setup)).toBe('dropped');
    setup.session.sendVideoChunk = send;
    expect(await frame(setup)).toBe('sent');
    expect(sentPictures(setup)).toEqual([
      [10, true],
      [30, true],
    ]);
  });

  it('captures nothing while more waits unacknowledged than the link carries in 250 ms plus the viewer’s ack delay, then goes on', async () => {
    const setup = await sending();
    setup.screen.current = picture(40, 64, 36);
    // Before any measurement the link is taken to carry 1 Mbit/s: 43 750 bytes in 250 ms plus a 100 ms ack delay.
    setup.session.unacknowledgedBytes = 50_000;
    const captures = setup.screen.captures;
    expect(await frames(setup, 3)).toEqual(['backpressure', 'backpressure', 'backpressure']);
    expect(setup.screen.captures).toBe(captures);
    setup.session.unacknowledgedBytes = 0;
    expect(await frames(setup, 1)).toEqual(['sent']);
  });

  it('lowers the bitrate when the link is slow, at most every 15 s', async () => {
    const setup = sender();
    await setup.video.configure();
    expect(setup.encoders.opened[0]!.bitrate).toBe(800_000); // 80% of the assumed 1 Mbit/s
    // A link that acknowledges 2 000 bytes a second: 20 000 waiting shrink by 200 every 100 ms.
    for (let waiting = 20_000; waiting > 16_000; waiting -= 200) {
      setup.session.unacknowledgedBytes = waiting;
      setup.screen.current = picture(waiting % 251, 64, 36);
      await frame(setup);
      setup.clock.advanceBy(100);
    }
    expect(setup.encoders.opened).toHaveLength(1); // not 15 s yet
    setup.clock.advanceBy(15_000);
    setup.session.unacknowledgedBytes = 0;
    setup.screen.current = picture(250, 64, 36);
    expect(await frame(setup)).toBe('sent');
    expect(setup.encoders.opened.map((settings) => settings.bitrate)).toEqual([800_000, MIN_BITRATE]);
    expect(setup.video.bitrate).toBeLessThan(MAX_BITRATE);
    // Same codec and size: the expert's decoder goes on; the new encoder starts with a key frame.
    expect(setup.configured).toHaveLength(1);
    setup.screen.current = picture(251 % 256, 64, 36);
    await frame(setup);
    expect(setup.encoders.encoded.at(-1)!.key).toBe(true);
  });

  it('encodes a large monitor fitted in the codec box, and steps down when encoding is too slow', async () => {
    const setup = sender({ monitor: monitor({ width: 2560, height: 1440 }) });
    await setup.video.configure();
    expect(setup.configured).toEqual(['vp8 1280x720']);
    setup.encoders.encodeMs = 60; // more than 85% of a 15 fps frame (67 ms)
    for (let index = 0; index < 15; index++) {
      setup.screen.current = picture(index + 1, 64, 36);
      await frame(setup);
    }
    expect(setup.configured).toEqual(['vp8 1280x720', 'vp8 960x540']);
    expect(setup.session.configs.at(-1)).toEqual({ source: 'desktop', codec: 'vp8', width: 960, height: 540, controllable: true });
  });

  it('counts the capture with the encode when deciding the size: each is fast enough alone, not one after the other', async () => {
    const setup = sender({ monitor: monitor({ width: 2560, height: 1440 }) });
    await setup.video.configure();
    setup.encoders.encodeMs = 35; // half a 15 fps frame…
    setup.screen.onCapture = () => setup.clock.advanceBy(30); // …after a capture of almost as long
    for (let index = 0; index < 15; index++) {
      setup.screen.current = picture(index + 1, 64, 36);
      await frame(setup);
    }
    expect(setup.configured).toEqual(['vp8 1280x720', 'vp8 960x540']);
  });

  it('steps back up to the codec box once encoding is fast again, not before 15 s at the smaller size', async () => {
    const setup = sender({ monitor: monitor({ width: 2560, height: 1440 }) });
    await setup.video.configure();
    let shown = 0;
    const changedFrames = async (count: number) => {
      for (let index = 0; index < count; index++) {
        setup.screen.current = picture(++shown % 256, 64, 36);
        await frame(setup);
        setup.clock.advanceBy(67);
      }
    };
    setup.encoders.encodeMs = 60; // a busy moment
    await changedFrames(15);
    expect(setup.configured.at(-1)).toBe('vp8 960x540');
    setup.encoders.encodeMs = 5; // fast again
    await changedFrames(40); // 2.7 s: too soon to step up
    expect(setup.configured.at(-1)).toBe('vp8 960x540');
    setup.clock.advanceBy(15_000);
    await changedFrames(1);
    expect(setup.configured).toEqual(['vp8 1280x720', 'vp8 960x540', 'vp8 1280x720']);
    // The step up starts with a key frame at the new size.
    await changedFrames(1);
    expect(setup.session.chunks.at(-1)).toMatchObject({ key: true });
    setup.clock.advanceBy(15_000);
    await changedFrames(40); // at the codec box: no further
    expect(setup.configured).toHaveLength(3);
  });

  it('an idle screen after a busy moment keeps its size and sends nothing: only encoded frames count', async () => {
    const setup = sender({ monitor: monitor({ width: 2560, height: 1440 }) });
    await setup.video.configure();
    setup.encoders.encodeMs = 60;
    for (let index = 1; index <= 15; index++) {
      setup.screen.current = picture(index, 64, 36);
      await frame(setup);
    }
    expect(setup.configured.at(-1)).toBe('vp8 960x540');
    await frame(setup); // the key frame at the new size
    const chunks = setup.session.chunks.length;
    setup.clock.advanceBy(60_000);
    expect(await frames(setup, 100)).toEqual(Array(100).fill('unchanged'));
    expect(setup.session.chunks).toHaveLength(chunks);
    expect(setup.configured.at(-1)).toBe('vp8 960x540');
  });

  it('until the capture and encode times are known, captures the next picture only once the encoder has its chunk: the picture encoded is the newest, and the encoder is never reopened mid-encode', async () => {
    const setup = sender();
    await setup.video.configure();
    const release = holdEncoder(setup.encoders);
    const first = await setup.video.capture();
    expect(first.outcome).toBe('queued');
    expect(setup.encoders.inFlight).toBe(1);
    // The next tick waits while the encoder is busy: nothing is captured to wait and grow old.
    let secondCaptured = false;
    const second = setup.video.capture().then((captured) => ((secondCaptured = true), captured));
    setup.screen.current = picture(20, 64, 36);
    // The technician now prefers H.264: the new encoder opens between two encodes.
    setup.session.expertCodecs = ['avc1.640028', 'vp8'];
    const reconfigured = setup.video.codecsChanged();
    await new Promise((resolve) => setImmediate(resolve));
    expect(secondCaptured).toBe(false);
    expect(setup.screen.captures).toBe(1);
    expect(setup.encoders.opened).toHaveLength(1);
    // The screen moved on meanwhile: the picture captured is the one it shows once the encoder is done.
    setup.screen.current = picture(30, 64, 36);
    release();
    expect(await encodedAs(first)).toBe('sent');
    expect(await encodedAs(await second)).toBe('sent');
    await reconfigured;
    expect(setup.screen.captures).toBe(2);
    expect(setup.encoders.changedMidEncode).toBe(0);
    // The new encoder's first frame is a key frame.
    expect(sentPictures(setup)).toEqual([
      [10, true],
      [30, true],
    ]);
    expect(setup.encoders.encoded.at(-1)!.settings.codec).toBe('avc1.640028');
  });

  it('once the capture and encode times are known, starts the next capture so that it ends as the encoder frees: the two overlap, and the picture is the one shown then', async () => {
    const setup = sender();
    await setup.video.configure();
    setup.encoders.encodeMs = 40;
    setup.screen.onCapture = () => setup.clock.advanceBy(10);
    for (let index = 1; index <= 15; index++) {
      setup.screen.current = picture(index, 64, 36);
      await frame(setup);
    }
    const release = holdEncoder(setup.encoders);
    setup.screen.current = picture(20, 64, 36);
    const busy = await setup.video.capture();
    const captures = setup.screen.captures;
    let nextCaptured = false;
    const next = setup.video.capture().then((captured) => ((nextCaptured = true), captured));
    // The encode just started takes 40 ms by the median, a capture 10: the next starts 30 ms on, not before.
    setup.screen.current = picture(30, 64, 36);
    setup.clock.advanceBy(29);
    await new Promise((resolve) => setImmediate(resolve));
    expect(setup.screen.captures).toBe(captures);
    setup.screen.current = picture(40, 64, 36);
    setup.clock.advanceBy(1);
    await new Promise((resolve) => setImmediate(resolve));
    // Captured while the encoder still works on picture 20.
    expect(nextCaptured).toBe(true);
    expect(setup.screen.captures).toBe(captures + 1);
    expect(setup.encoders.inFlight).toBe(1);
    release();
    expect(await encodedAs(busy)).toBe('sent');
    expect(await encodedAs(await next)).toBe('sent');
    expect(setup.session.chunks.slice(-2).map((chunk) => chunk.data[0])).toEqual([20, 40]);
    expect(setup.encoders.changedMidEncode).toBe(0);
  });

  it('a key frame needed while the encoder works makes the next picture a key frame', async () => {
    const setup = await sending();
    const { release, busy, next } = await busyAndNextWaiting(setup);
    setup.session.keyFrameNeeded = true; // a key-frame request arrives meanwhile
    release();
    // The delta being encoded is of no use to the technician any more (the session drops it); the next picture is the key frame.
    expect(await encodedAs(busy)).toBe('dropped');
    expect(await encodedAs(await next)).toBe('sent');
    expect(sentPictures(setup)).toEqual([
      [10, true],
      [30, true],
    ]);
  });

  it('looks at the backlog before capturing, once the encoder is done: the chunk just sent counts, and the screen is sent once it drains', async () => {
    const setup = await sending();
    const send = setup.session.sendVideoChunk.bind(setup.session);
    setup.session.sendVideoChunk = (chunk) => {
      setup.session.unacknowledgedBytes += 50_000; // more than 350 ms of an assumed 1 Mbit/s
      return send(chunk);
    };
    const { release, busy, next } = await busyAndNextWaiting(setup);
    release();
    expect(await encodedAs(busy)).toBe('sent');
    expect((await next).outcome).toBe('backpressure');
    expect(setup.screen.captures).toBe(2);
    setup.session.sendVideoChunk = send;
    setup.session.unacknowledgedBytes = 0;
    expect(await frames(setup, 2)).toEqual(['sent', 'unchanged']);
    expect(setup.session.chunks.map((chunk) => chunk.data[0])).toEqual([10, 20, 30]);
  });

  it('looks at the backlog again just before encoding: a picture captured while the last chunk was counted is not encoded, and the screen is sent once it drains', async () => {
    const setup = await sending();
    setup.screen.current = picture(20, 64, 36);
    // The last chunk's bytes are counted while the next picture is captured.
    setup.screen.onCapture = () => (setup.session.unacknowledgedBytes = 50_000);
    expect(await frame(setup)).toBe('not-encoded');
    setup.screen.onCapture = undefined;
    setup.session.unacknowledgedBytes = 0;
    // The screen still shows what was not sent: it is sent now, though it did not change.
    expect(await frames(setup, 2)).toEqual(['sent', 'unchanged']);
    expect(setup.session.chunks.map((chunk) => chunk.data[0])).toEqual([10, 20]);
  });

  it('closing waits for the frame being encoded, then encodes nothing more', async () => {
    const setup = sender();
    await setup.video.configure();
    const release = holdEncoder(setup.encoders);
    const busy = await setup.video.capture();
    setup.screen.current = picture(20, 64, 36);
    const next = setup.video.capture();
    const closed = setup.video.close();
    expect((await setup.video.capture()).outcome).toBe('not-ready');
    release();
    await closed;
    expect(setup.encoders.changedMidEncode).toBe(0);
    expect(await encodedAs(busy)).toBe('sent');
    expect((await next).outcome).toBe('not-ready');
    expect(setup.screen.captures).toBe(1);
    expect(setup.session.chunks).toHaveLength(1);
  });

  it("a Retina monitor's capture is twice its desktop size: the encoded size follows the pixels", async () => {
    const setup = sender({ monitor: monitor({ width: 640, height: 400, scaleFactor: 2 }) });
    await setup.video.configure();
    expect(setup.configured).toEqual(['vp8 1152x720']);
  });

  it("picks the first codec of the expert's list it can encode, and falls back to VP8 when that encoder refuses", async () => {
    const setup = sender({ expertCodecs: ['vp09.00.10.08', 'avc1.640028', 'vp8'] });
    await setup.video.configure();
    expect(setup.configured).toEqual(['avc1.640028 1920x1080']);

    const refusing = sender({ expertCodecs: ['avc1.640028', 'vp8'] });
    refusing.encoders.refused.add('avc1.640028');
    await refusing.video.configure();
    expect(refusing.configured).toEqual(['vp8 1280x720']);

    const none = sender({ expertCodecs: ['vp8'] });
    none.encoders.refused.add('vp8');
    await expect(none.video.configure()).rejects.toThrow(/the video encoder refused every configuration \(the vp8 encoder refused 1280×720 \(not supported\)\)/);
  });

  it('H.264 when both sides have it; VP8 when the expert does not decode H.264', async () => {
    const both = sender({ expertCodecs: [...VIDEO_CODECS] });
    await both.video.configure();
    expect(both.configured).toEqual(['avc1.640028 1920x1080']);
    expect(both.session.configs.at(-1)).toMatchObject({ codec: 'avc1.640028' });

    const vp8Only = sender({ expertCodecs: ['vp8'] });
    await vp8Only.video.configure();
    expect(vp8Only.configured).toEqual(['vp8 1280x720']);
  });

  it('--codec vp8: VP8 even when both sides have H.264, and the expert\'s list changes nothing', async () => {
    const setup = sender({ expertCodecs: [...VIDEO_CODECS], codec: 'vp8' });
    await setup.video.configure();
    expect(setup.configured).toEqual(['vp8 1280x720']);
    setup.session.expertCodecs = ['avc1.640028'];
    await setup.video.codecsChanged();
    expect(setup.configured).toEqual(['vp8 1280x720']);
  });

  it("reconfigures when the expert's list arrives and prefers another codec, not otherwise", async () => {
    const setup = sender();
    await setup.video.configure();
    setup.session.expertCodecs = ['vp8', 'avc1.640028'];
    await setup.video.codecsChanged();
    expect(setup.configured).toEqual(['vp8 1280x720']);
    setup.session.expertCodecs = ['avc1.640028', 'vp8'];
    await setup.video.codecsChanged();
    expect(setup.configured).toEqual(['vp8 1280x720', 'avc1.640028 1920x1080']);
  });

  it('a monitor that disappears is told apart from a capture that fails', async () => {
    const setup = sender();
    await setup.video.configure();
    setup.screen.failure = new Error('XGetImage failed');
    const failure = await frame(setup).catch((error: DesktopError) => error);
    expect(failure).toMatchObject({ code: 'capture-failed' });
    setup.screen.listed = [];
    const gone = await frame(setup).catch((error: DesktopError) => error);
    expect(gone).toMatchObject({ code: 'monitor-gone', message: expect.stringContaining('monitor 1 (screen) is gone, so the desktop share stopped: the terminal and chat go on') });
  });
});

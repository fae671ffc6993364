// The encoded-size rule on a step clock: the medians of the last frames' capture and encode times
// decide, so a busy moment's slow frames do not shrink the picture; a step up waits, and waits longer
// each time the larger size proves too slow again; the size is kept for 15 frames a second, whatever
// higher cap the share has.
import { describe, expect, it } from 'vitest';
import { EncodeSizeRule, MAX_STEP_UP_AFTER_MS, MEASURED_FRAMES, SIZE_RULE_FPS, STEP_UP_AFTER_MS } from '../../../cli/desktop/encode-size.js';
import { StepClock } from './fakes.js';

const FRAME_MS = 1000 / 15;
const both = { down: true, up: true };

/** A rule for a share capped at `maxFps` (--max-fps; 15 unless said). */
function rule(maxFps = 15) {
  const clock = new StepClock();
  const sizes = new EncodeSizeRule(maxFps, clock);
  /** Feeds encode times (after captures of `captureMs`) one frame interval apart; the steps the rule asked for. */
  const feed = (encodeMs: number[], possible = both, captureMs = 0) =>
    encodeMs.map((ms) => {
      clock.advanceBy(1000 / maxFps);
      return sizes.observe({ captureMs, encodeMs: ms }, possible);
    });
  return { clock, sizes, feed };
}

const times = (count: number, ms: number) => Array<number>(count).fill(ms);

describe('the encoded-size rule', () => {
  it('decides nothing before it has measured enough frames at a size', () => {
    const { feed } = rule();
    expect(feed(times(MEASURED_FRAMES - 1, 100))).toEqual(times(MEASURED_FRAMES - 1, undefined as never));
    expect(feed([100])).toEqual(['down']);
  });

  it('steps down on the median, not on a few slow frames of a busy moment', () => {
    const { feed, sizes } = rule();
    // 7 of the last 15 frames very slow: the median is still fast.
    expect(feed([...times(8, 20), ...times(7, 200)])).not.toContain('down');
    expect(sizes.median).toEqual({ captureMs: 0, encodeMs: 20 });
    // One more slow frame: most frames are too slow for 15 frames a second.
    expect(feed([200])).toEqual(['down']);
  });

  it('counts the capture with the encode, since one follows the other: together they may take most of the frame interval', () => {
    const { feed } = rule();
    expect(feed(times(30, 0.8 * FRAME_MS))).not.toContain('down');
    expect(feed(times(MEASURED_FRAMES, 0.9 * FRAME_MS))).toContain('down');
    const withCapture = rule();
    expect(withCapture.feed(times(30, 0.5 * FRAME_MS), both, 0.3 * FRAME_MS)).not.toContain('down');
    expect(withCapture.feed(times(MEASURED_FRAMES, 0.5 * FRAME_MS), both, 0.4 * FRAME_MS)).toContain('down');
  });

  it('steps up only when encoding is fast and the size has held 15 s', () => {
    const { feed, sizes, clock } = rule();
    sizes.changed('down');
    expect(feed(times(100, 10))).not.toContain('up'); // fast, but only 6.7 s
    feed(times(MEASURED_FRAMES, 0.5 * FRAME_MS));
    clock.advanceBy(STEP_UP_AFTER_MS);
    // Half the interval: fine at this size, too slow for 16/9 the pixels.
    expect(feed(times(MEASURED_FRAMES, 0.5 * FRAME_MS))).not.toContain('up');
    expect(feed(times(MEASURED_FRAMES, 10)).at(-1)).toBe('up');
  });

  it('does not step up when the capture leaves too little of the interval for 16/9 the pixels', () => {
    const { feed, clock } = rule();
    clock.advanceBy(STEP_UP_AFTER_MS);
    // A 15 ms encode would fit 2.4 times over alone, not after a 30 ms capture.
    expect(feed(times(30, 15), both, 30)).not.toContain('up');
    expect(feed(times(MEASURED_FRAMES, 15), both, 10).at(-1)).toBe('up');
  });

  it('asks only for a step that exists', () => {
    const { feed, clock } = rule();
    clock.advanceBy(STEP_UP_AFTER_MS);
    expect(feed(times(30, 100), { down: false, up: true })).not.toContain('down');
    expect(feed(times(30, 5), { down: true, up: false })).not.toContain('up');
  });

  it('measures afresh after any new encoder', () => {
    const { feed, sizes } = rule();
    feed(times(MEASURED_FRAMES - 1, 100));
    sizes.changed(); // a new bitrate, same size
    expect(feed(times(MEASURED_FRAMES - 1, 100))).not.toContain('down');
  });

  it('a larger size that proves too slow again is retried after twice the wait, up to 2 minutes; one that held is retried at the usual time', () => {
    const { feed, sizes, clock } = rule();
    const waits: number[] = [];
    for (let round = 0; round < 5; round++) {
      sizes.changed('down');
      waits.push(sizes.stepUpAfterMs);
      clock.advanceBy(sizes.stepUpAfterMs);
      expect(feed(times(MEASURED_FRAMES, 5)).at(-1)).toBe('up');
      sizes.changed('up');
      feed(times(MEASURED_FRAMES, 100)); // slow again at once
    }
    expect(waits).toEqual([STEP_UP_AFTER_MS, 2 * STEP_UP_AFTER_MS, 4 * STEP_UP_AFTER_MS, MAX_STEP_UP_AFTER_MS, MAX_STEP_UP_AFTER_MS]);
    // The larger size held for longer than the longest wait before it became too slow: back to the usual wait.
    sizes.changed('down');
    clock.advanceBy(sizes.stepUpAfterMs);
    feed(times(MEASURED_FRAMES, 5));
    sizes.changed('up');
    clock.advanceBy(MAX_STEP_UP_AFTER_MS);
    sizes.changed('down');
    expect(sizes.stepUpAfterMs).toBe(STEP_UP_AFTER_MS);
  });

  it('keeps a size that carries 15 frames a second under a higher cap: more frames are not worth a smaller picture', () => {
    expect(SIZE_RULE_FPS).toBe(15);
    for (const maxFps of [20, 30]) {
      // 40 ms a frame: too slow for 30 or 20 a second (33 and 50 ms, less the margin), fine for 15.
      const { feed } = rule(maxFps);
      expect(feed(times(60, 30), both, 10), `cap ${maxFps}`).not.toContain('down');
      expect(feed(times(MEASURED_FRAMES, 0.9 * FRAME_MS)), `cap ${maxFps}`).toContain('down');
      // Steps back up as it would at 15: capture + 2.4 × encode within the 15 frames/s budget.
      const again = rule(maxFps);
      again.clock.advanceBy(STEP_UP_AFTER_MS);
      expect(again.feed(times(MEASURED_FRAMES, 18), both, 5).at(-1), `cap ${maxFps}`).toBe('up');
    }
  });

  it('under a lower cap keeps the size for that cap: a share asked for 5 frames a second has 200 ms for each', () => {
    const { feed } = rule(5);
    expect(feed(times(30, 150))).not.toContain('down');
    expect(feed(times(MEASURED_FRAMES, 190))).toContain('down');
  });
});

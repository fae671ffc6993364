// When to change the encoded size, from what a frame costs the sender: its capture, then its encode
// (video-sender.ts captures only when the encoder is about to be free, so the two add up; only the
// encode depends on the size). The size defends a frame rate, SIZE_RULE_FPS (or the cap, when the
// person asked for fewer: --max-fps): a picture too slow for that rate steps down, one fast enough
// stays large, and the frames come as fast as the pipeline carries them, up to the cap. Above
// SIZE_RULE_FPS more frames are welcome but not worth a smaller picture: a 1920×1080 desktop's text is
// readable at 1920 and 1440 wide, hardly at 640, and a technician reads far more than they watch
// motion. The rule looks at the medians of the last frames, so a few slow frames while the machine is
// busy change nothing:
//   - down a step when the median capture plus the median encode take more than FRAME_BUDGET_SHARE
//     of the defended frame interval;
//   - back up a step when the capture plus STEP_UP_ENCODE_FACTOR times the encode would still fit
//     (the larger size has 16/9 the pixels, and room to spare), no sooner than STEP_UP_AFTER_MS after
//     the last change. A step up that proves too slow again doubles that wait, up to
//     MAX_STEP_UP_AFTER_MS: a machine that cannot keep the larger size is not made to try every few
//     seconds (each change costs a key frame).
// Only frames that were encoded count: an idle screen measures nothing and never changes size.

import type { Clock } from '../../sdk/node.js';

/** The frame rate the size is kept for: a slower picture steps down, a faster cap never makes it. */
export const SIZE_RULE_FPS = 15;
/** Frames measured at a size before any decision (the first frames of an encoder are slower). */
export const MEASURED_FRAMES = 15;
/** A frame's capture and encode may take this share of the frame interval before the size steps down… */
export const FRAME_BUDGET_SHARE = 0.85;
/** …and the size steps back up once the capture plus this many times the encode fit in it. */
export const STEP_UP_ENCODE_FACTOR = 2.4;
export const STEP_UP_AFTER_MS = 15_000;
export const MAX_STEP_UP_AFTER_MS = 120_000;

export type SizeStep = 'down' | 'up';

/** What one frame cost the sender, in milliseconds. */
export interface FrameCost {
  captureMs: number;
  encodeMs: number;
}

export class EncodeSizeRule {
  /** The interval of the frame rate the size defends. */
  readonly #frameIntervalMs: number;
  readonly #clock: Pick<Clock, 'now'>;
  /** Frame costs at the current size, newest last, at most MEASURED_FRAMES. */
  #costs: FrameCost[] = [];
  #changedAt: number;
  #lastStep: SizeStep | undefined;
  #stepUpAfterMs = STEP_UP_AFTER_MS;

  /** `maxFps`: the share's cap (--max-fps); the rule defends the lower of it and SIZE_RULE_FPS. */
  constructor(maxFps: number, clock: Pick<Clock, 'now'>) {
    this.#frameIntervalMs = 1000 / Math.min(maxFps, SIZE_RULE_FPS);
    this.#clock = clock;
    this.#changedAt = clock.now();
  }

  /** How long the size must stay before a step up may be tried now. */
  get stepUpAfterMs(): number {
    return this.#stepUpAfterMs;
  }

  /** The medians of the recent capture and encode times at this size, once enough are measured. */
  get median(): FrameCost | undefined {
    if (this.#costs.length < MEASURED_FRAMES) return undefined;
    const middle = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    return { captureMs: middle(this.#costs.map((cost) => cost.captureMs)), encodeMs: middle(this.#costs.map((cost) => cost.encodeMs)) };
  }

  /** One frame's cost; the step to take, if any, among those `possible` (none below the smallest size or above the codec's box). */
  observe(cost: FrameCost, possible: Record<SizeStep, boolean>): SizeStep | undefined {
    this.#costs.push(cost);
    if (this.#costs.length > MEASURED_FRAMES) this.#costs.shift();
    const median = this.median;
    if (median === undefined) return undefined;
    const budget = FRAME_BUDGET_SHARE * this.#frameIntervalMs;
    if (possible.down && median.captureMs + median.encodeMs > budget) return 'down';
    const waited = this.#clock.now() - this.#changedAt >= this.#stepUpAfterMs;
    if (possible.up && waited && median.captureMs + STEP_UP_ENCODE_FACTOR * median.encodeMs < budget) return 'up';
    return undefined;
  }

  /** The size changed (`step`), or a new encoder started at the same size (a new bitrate): measuring starts over. */
  changed(step?: SizeStep): void {
    this.#costs = [];
    if (!step) return;
    const now = this.#clock.now();
    if (step === 'down' && this.#lastStep === 'up') {
      // The larger size was too slow again: wait longer before the next try. One that held for a
      // while was fine then, and the machine is busy now: the next try comes at the usual time.
      const heldMs = now - this.#changedAt;
      this.#stepUpAfterMs = heldMs < MAX_STEP_UP_AFTER_MS ? Math.min(MAX_STEP_UP_AFTER_MS, this.#stepUpAfterMs * 2) : STEP_UP_AFTER_MS;
    }
    this.#lastStep = step;
    this.#changedAt = now;
  }
}

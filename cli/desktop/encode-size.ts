// When to change the encoded size, from how long the encoder takes per frame. Captures overlap
// encodes (video-sender.ts), so the encoder alone has the whole frame interval; the rule looks at the
// median of the last frames, so a few slow frames while the machine is busy change nothing:
//   - down a step when the median encode takes more than STEP_DOWN_SHARE of the frame interval;
//   - back up a step when it takes less than STEP_UP_SHARE (the larger size has 16/9 the pixels, so
//     it should still fit), no sooner than STEP_UP_AFTER_MS after the last change. A step up that
//     proves too slow again doubles that wait, up to MAX_STEP_UP_AFTER_MS: a machine that cannot
//     keep the larger size is not made to try every few seconds (each change costs a key frame).
// Only frames that were encoded count: an idle screen measures nothing and never changes size.

import type { Clock } from '../../sdk/node.js';

/** Frames measured at a size before any decision (the first frames of an encoder are slower). */
export const MEASURED_FRAMES = 15;
/** The median encode time may take this share of the frame interval before the size steps down… */
export const STEP_DOWN_SHARE = 0.85;
/** …and under this share the size steps back up. */
export const STEP_UP_SHARE = 0.35;
export const STEP_UP_AFTER_MS = 15_000;
export const MAX_STEP_UP_AFTER_MS = 120_000;

export type SizeStep = 'down' | 'up';

export class EncodeSizeRule {
  readonly #frameIntervalMs: number;
  readonly #clock: Pick<Clock, 'now'>;
  /** Encode times at the current size, newest last, at most MEASURED_FRAMES. */
  #encodeMs: number[] = [];
  #changedAt: number;
  #lastStep: SizeStep | undefined;
  #stepUpAfterMs = STEP_UP_AFTER_MS;

  constructor(frameIntervalMs: number, clock: Pick<Clock, 'now'>) {
    this.#frameIntervalMs = frameIntervalMs;
    this.#clock = clock;
    this.#changedAt = clock.now();
  }

  /** How long the size must stay before a step up may be tried now. */
  get stepUpAfterMs(): number {
    return this.#stepUpAfterMs;
  }

  /** The median of the recent encode times at this size, once enough are measured. */
  get medianEncodeMs(): number | undefined {
    if (this.#encodeMs.length < MEASURED_FRAMES) return undefined;
    const sorted = [...this.#encodeMs].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  /** One frame's encode time; the step to take, if any, among those `possible` (none below the smallest size or above the codec's box). */
  observe(encodeMs: number, possible: Record<SizeStep, boolean>): SizeStep | undefined {
    this.#encodeMs.push(encodeMs);
    if (this.#encodeMs.length > MEASURED_FRAMES) this.#encodeMs.shift();
    const median = this.medianEncodeMs;
    if (median === undefined) return undefined;
    if (possible.down && median > STEP_DOWN_SHARE * this.#frameIntervalMs) return 'down';
    const waited = this.#clock.now() - this.#changedAt >= this.#stepUpAfterMs;
    if (possible.up && waited && median < STEP_UP_SHARE * this.#frameIntervalMs) return 'up';
    return undefined;
  }

  /** The size changed (`step`), or a new encoder started at the same size (a new bitrate): measuring starts over. */
  changed(step?: SizeStep): void {
    this.#encodeMs = [];
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

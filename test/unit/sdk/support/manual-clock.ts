// A simulated clock for the stream: time moves only when a test runs timers, so runs are fast and
// deterministic. Between timers it lets pending promise callbacks (codec seal/open) run.
import type { CancelTimer, Clock } from '../../../../sdk/clock.js';

interface Timer {
  at: number;
  order: number;
  callback: () => void;
  cancelled: boolean;
}

/** Lets every queued promise callback run (the plain codec resolves within microtasks). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class ManualClock implements Clock {
  #now = 0;
  #created = 0;
  /** Sorted by (at, order): timers due at the same time run in the order they were set. */
  #timers: Timer[] = [];

  now(): number {
    return this.#now;
  }

  schedule(delayMs: number, callback: () => void): CancelTimer {
    const timer: Timer = { at: this.#now + Math.max(0, delayMs), order: this.#created++, callback, cancelled: false };
    let index = this.#timers.length;
    while (index > 0 && this.#timers[index - 1]!.at > timer.at) index--;
    this.#timers.splice(index, 0, timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Advances to the next live timer and runs it; false when none is pending. */
  async runNext(): Promise<boolean> {
    await settle();
    const timer = this.#takeNext();
    if (!timer) return false;
    this.#now = Math.max(this.#now, timer.at);
    timer.callback();
    await settle();
    return true;
  }

  /** Runs every timer due within `ms`, then sets the time to exactly `now + ms`. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await settle();
      const timer = this.#peekNext();
      if (!timer || timer.at > target) break;
      this.#takeNext();
      this.#now = timer.at;
      timer.callback();
    }
    this.#now = target;
    await settle();
  }

  #peekNext(): Timer | undefined {
    while (this.#timers[0]?.cancelled) this.#timers.shift();
    return this.#timers[0];
  }

  #takeNext(): Timer | undefined {
    const timer = this.#peekNext();
    this.#timers.shift();
    return timer;
  }
}

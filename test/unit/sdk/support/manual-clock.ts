// A simulated clock for the SDK's timers: time moves only when a test runs timers, so runs are fast and
// deterministic. Between timers it lets pending promise callbacks (codec seal/open) run. whenScheduled tells a
// test that the code under test now waits on the clock, so it advances it then instead of sleeping.
import type { CancelTimer, Clock } from '../../../../sdk/clock.js';
import { HANG_MS } from '../../../support/harness.js';

interface Timer {
  at: number;
  delayMs: number;
  order: number;
  callback: () => void;
  cancelled: boolean;
}

/** Lets every queued promise callback run (the plain codec resolves within microtasks). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `promise`, or a rejection naming `what` once HANG_MS pass without it settling. */
async function boundedWait<T>(promise: Promise<T>, what: string): Promise<T> {
  let hangTimer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    hangTimer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), HANG_MS);
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(hangTimer);
  }
}

export class ManualClock implements Clock {
  #now = 0;
  #created = 0;
  /** Sorted by (at, order): timers due at the same time run in the order they were set. */
  #timers: Timer[] = [];
  /** Told of every timer as it is set: the waits of whenScheduled. */
  readonly #onSchedule = new Set<(timer: Timer) => void>();

  now(): number {
    return this.#now;
  }

  schedule(delayMs: number, callback: () => void): CancelTimer {
    const timer: Timer = { at: this.#now + Math.max(0, delayMs), delayMs, order: this.#created++, callback, cancelled: false };
    let index = this.#timers.length;
    while (index > 0 && this.#timers[index - 1]!.at > timer.at) index--;
    this.#timers.splice(index, 0, timer);
    for (const told of [...this.#onSchedule]) told(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /**
   * Resolves with the delay of a pending timer that `accept` takes (at once if one is set already, else when
   * the code under test sets one): the moment it waits on this clock, so a test advances it without sleeping.
   * Rejects naming `what` if no such timer is set within 20 s (a hang, not a timing assertion).
   */
  async whenScheduled(accept: (delayMs: number) => boolean, what: string): Promise<number> {
    const next = this.#whenScheduled(accept);
    try {
      return await boundedWait(next.scheduled, what);
    } finally {
      next.stop();
    }
  }

  /**
   * Runs the timers the code under test sets, each as soon as it is set (so time jumps to it), until
   * `promise` settles; what else it waits for (sockets, the relay) happens in real time meanwhile.
   * Rejects naming `what` if the promise has not settled after 20 s.
   */
  async runUntilSettled<T>(promise: Promise<T>, what: string): Promise<T> {
    let settled = false;
    const done = promise.then(
      () => void (settled = true),
      () => void (settled = true),
    );
    let running = true;
    const runTimers = async () => {
      while (running && !settled) {
        const next = this.#whenScheduled(() => true);
        await Promise.race([done, next.scheduled]);
        next.stop();
        if (running && !settled) await this.runNext();
      }
    };
    try {
      await boundedWait(runTimers(), what);
    } finally {
      running = false;
    }
    return promise;
  }

  #whenScheduled(accept: (delayMs: number) => boolean): { scheduled: Promise<number>; stop: () => void } {
    const pending = this.#timers.find((timer) => !timer.cancelled && accept(timer.delayMs));
    if (pending) return { scheduled: Promise.resolve(pending.delayMs), stop: () => {} };
    let told!: (timer: Timer) => void;
    const scheduled = new Promise<number>((resolve) => {
      told = (timer) => {
        if (!accept(timer.delayMs)) return;
        this.#onSchedule.delete(told);
        resolve(timer.delayMs);
      };
      this.#onSchedule.add(told);
    });
    return { scheduled, stop: () => this.#onSchedule.delete(told) };
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

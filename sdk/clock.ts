// Time source and timers, injectable so tests drive the stream with a simulated clock.

export type CancelTimer = () => void;

export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  schedule(delayMs: number, callback: () => void): CancelTimer;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  schedule(delayMs, callback) {
    const timer = setTimeout(callback, delayMs);
    return () => clearTimeout(timer);
  },
};

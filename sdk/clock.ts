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

/** Resolves after `delayMs` on `clock`, or rejects as soon as `signal` aborts. */
export function sleep(clock: Clock, delayMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      cancel();
      reject(signal.reason);
    };
    const cancel = clock.schedule(delayMs, () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

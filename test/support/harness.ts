// Small helpers shared by the tests that drive SDK clients.
import { afterEach } from 'vitest';
import type { RelayClientOptions } from '../../sdk/index.js';

/** Short timers so outages heal in milliseconds on localhost. Nothing asserts on time. */
export const fastClientOptions: Omit<RelayClientOptions, 'url' | 'WebSocket'> = {
  streamTuning: { initialRtoMs: 100, minRtoMs: 20, ackDelayMs: 5, answerAckDelayMs: 5 },
  reconnect: { initialDelayMs: 10, maxDelayMs: 100 },
  requestTimeoutMs: 2_000,
  endTimeoutMs: 5_000,
};

/** Resolves when `condition` holds; rejects naming `what` if it does not within 20 s (a hang, not a timing assertion). */
export async function until(condition: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 20_000; !condition(); await new Promise((resolve) => setTimeout(resolve, 5))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

/** Returns `defer(cleanup)`: deferred cleanups run after each test of the file, newest first. */
export function useCleanups(): (cleanup: () => unknown) => void {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return (cleanup) => cleanups.push(cleanup);
}

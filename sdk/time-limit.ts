// The session's hard time limit as both sides see it: the limit itself whenever it is set or moved
// (approval, an extension, a resume that learned of one), and warnings a few minutes before it, so
// nobody is cut off without notice. The relay enforces the limit; this only tells people.

import type { RelayClient } from './client.js';
import { systemClock, type CancelTimer, type Clock } from './clock.js';

/** What "add time" adds when nobody says how much: 30 minutes. */
export const DEFAULT_EXTENSION_SECONDS = 30 * 60;

/** Warnings before the hard limit, in seconds left: 5 minutes and 1 minute. */
export const EXPIRY_WARNINGS_SECONDS: readonly number[] = [300, 60];

export interface TimeLimit {
  /** The hard expiry, epoch seconds. */
  expiresAt: number;
  /** The latest it can be moved to (approval + the operator's cap), when the relay said. */
  maxExpiresAt?: number;
}

export interface TimeLimitHandlers {
  /** The limit was set or moved. */
  limit?(limit: TimeLimit): void;
  /** `secondsLeft` (one of the warning thresholds) before the limit. */
  warning?(warning: { secondsLeft: number; expiresAt: number }): void;
}

export interface TimeLimitOptions {
  /** Wall-clock time, epoch milliseconds (the limit is wall-clock); default Date.now. */
  now?: () => number;
  /** Timers for the warnings; default the system's. */
  clock?: Clock;
  warningsSeconds?: readonly number[];
}

/**
 * Reports the limit of `client`'s session from its activation on, and schedules the warnings that
 * are still ahead each time it moves. Returns a function that stops watching.
 */
export function watchTimeLimit(client: RelayClient, handlers: TimeLimitHandlers, options: TimeLimitOptions = {}): () => void {
  const now = options.now ?? Date.now;
  const clock = options.clock ?? systemClock;
  const thresholds = options.warningsSeconds ?? EXPIRY_WARNINGS_SECONDS;
  let timers: CancelTimer[] = [];
  let current: number | undefined;
  const cancel = () => {
    for (const stop of timers) stop();
    timers = [];
  };
  const take = (limit: TimeLimit) => {
    if (limit.expiresAt === current) return;
    current = limit.expiresAt;
    cancel();
    handlers.limit?.(limit);
    for (const secondsLeft of thresholds) {
      const delayMs = (limit.expiresAt - secondsLeft) * 1000 - now();
      if (delayMs > 0) timers.push(clock.schedule(delayMs, () => handlers.warning?.({ secondsLeft, expiresAt: limit.expiresAt })));
    }
  };
  const stops = [
    client.on('active', ({ expiresAt }) => take({ expiresAt })),
    client.on('extended', (limit) => take(limit)),
    client.on('ended', () => stop()),
  ];
  const stop = () => {
    cancel();
    for (const off of stops) off();
  };
  if (client.activation) take({ expiresAt: client.activation.expiresAt });
  return stop;
}

// The session's idle limit, kept by the person's side (the agent). The relay cannot tell activity
// from the encrypted heartbeats that keep connections open, so the side that sees the messages
// decides: a session in which nobody did anything (sdk/assist-messages.ts idleActivityMessages, or a
// "still here" from either side) for the relay's idleTimeoutSeconds ends with 'idle-timeout', after
// warnings 5 minutes and 1 minute before, so nobody is cut off without notice.

import { systemClock, type CancelTimer, type Clock } from './clock.js';
import { EXPIRY_WARNINGS_SECONDS } from './time-limit.js';

/** Warnings before the idle end: the same as before the hard limit (those shorter than the limit itself). */
export const IDLE_WARNINGS_SECONDS = EXPIRY_WARNINGS_SECONDS;

export interface IdleHandlers {
  /** `secondsLeft` before the idle end (a warning threshold, less after a stall), unless someone acts. */
  warning(secondsLeft: number): void;
  /** Activity after a warning: the end is put off, the warning is over. */
  cleared(): void;
  /** The limit passed without activity: end the session. */
  expired(): void;
}

export interface IdleWatchOptions {
  /** Timers and a monotonic time; default the system's. */
  clock?: Clock;
  warningsSeconds?: readonly number[];
}

/**
 * Counts idle time from start() or the last touch(). Cheap to touch on every message: one timer is
 * armed for the next event and, when it fires, re-armed from the last activity if there was any.
 */
export class IdleWatch {
  readonly #limitMs: number;
  readonly #handlers: IdleHandlers;
  readonly #clock: Clock;
  /** Milliseconds of idleness at which each warning is due, earliest first. */
  readonly #warnings: { atMs: number }[];
  #lastActivity = 0;
  /** Warnings given since the last activity. */
  #given = 0;
  #timer: CancelTimer | undefined;
  #running = false;

  constructor(limitSeconds: number, handlers: IdleHandlers, options: IdleWatchOptions = {}) {
    if (!Number.isFinite(limitSeconds) || limitSeconds <= 0) throw new RangeError(`an idle limit is a positive number of seconds, not ${limitSeconds}`);
    this.#limitMs = limitSeconds * 1000;
    this.#handlers = handlers;
    this.#clock = options.clock ?? systemClock;
    this.#warnings = [...(options.warningsSeconds ?? IDLE_WARNINGS_SECONDS)]
      .filter((seconds) => seconds > 0 && seconds < limitSeconds)
      .sort((a, b) => b - a)
      .map((secondsLeft) => ({ atMs: this.#limitMs - secondsLeft * 1000 }));
  }

  /** Whether a warning was given and no activity followed yet. */
  get warned(): boolean {
    return this.#given > 0;
  }

  /** Seconds left before the end, as things stand (at least 1 while running). */
  get secondsLeft(): number {
    return Math.max(1, Math.round((this.#lastActivity + this.#limitMs - this.#clock.now()) / 1000));
  }

  /** Starts counting (again) from now. */
  start(): void {
    this.#running = true;
    this.#lastActivity = this.#clock.now();
    this.#given = 0;
    this.#arm();
  }

  /** Activity: the idle time starts again; after a warning, cleared() says so. */
  touch(): void {
    if (!this.#running) return;
    this.#lastActivity = this.#clock.now();
    if (this.#given === 0) return;
    this.#given = 0;
    this.#handlers.cleared();
  }

  stop(): void {
    this.#running = false;
    this.#timer?.();
    this.#timer = undefined;
  }

  #arm(): void {
    this.#timer?.();
    const next = this.#warnings[this.#given]?.atMs ?? this.#limitMs;
    // Activity only moves events later, so firing at the next event due since the last activity is never late.
    this.#timer = this.#clock.schedule(Math.max(0, Math.ceil(this.#lastActivity + next - this.#clock.now())), () => this.#due());
  }

  #due(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const idleMs = this.#clock.now() - this.#lastActivity;
    if (idleMs >= this.#limitMs) {
      this.stop();
      return this.#handlers.expired();
    }
    // After a long stall (a sleeping laptop) only one warning is given, with the time really left.
    const given = this.#given;
    while (this.#given < this.#warnings.length && this.#warnings[this.#given]!.atMs <= idleMs) this.#given++;
    if (this.#given > given) this.#handlers.warning(Math.max(1, Math.round((this.#limitMs - idleMs) / 1000)));
    if (this.#running) this.#arm();
  }
}

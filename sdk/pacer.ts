// Client-side pacing under API Gateway's stage throttle: a token bucket in front of the socket, so a client
// that bursts (a screen full of video chunks, a paste) waits its turn here instead of having messages dropped
// with "Too Many Requests" and sending them again.
import { DEFAULT_STAGE_THROTTLE } from '../shared/core/stage-throttle.js';
import type { CancelTimer, Clock } from './clock.js';

export interface PacingPolicy {
  /** Steady messages per second (the stage's rate limit). */
  messagesPerSecond: number;
  /** Messages that may go at once after a quiet spell (the stage's burst limit). */
  burst: number;
}

/**
 * The deployed stage's defaults (docs/cost-and-limits.md). The stage throttles each route across all its
 * connections; one client cannot see the others, so this keeps any one client within the limits, and the
 * throttle retry (connection.ts) still covers a stage that many clients fill together.
 */
export const defaultPacing: PacingPolicy = { messagesPerSecond: DEFAULT_STAGE_THROTTLE.messagesPerSecond, burst: DEFAULT_STAGE_THROTTLE.messageBurst };

export function verifyPacing(policy: PacingPolicy): PacingPolicy {
  for (const [name, value] of Object.entries(policy)) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`pacing.${name} must be a positive number, got ${String(value)}`);
  }
  if (policy.burst < 1) throw new RangeError(`pacing.burst must let at least one message through, got ${policy.burst}`);
  return policy;
}

/** Sends through `transmit` at most `burst` at once and `messagesPerSecond` on average, in order. */
export class SendPacer {
  readonly #clock: Clock;
  readonly #policy: PacingPolicy;
  readonly #transmit: (text: string) => void;
  readonly #onDelayed: () => void;
  readonly #queue: string[] = [];
  #tokens: number;
  #refilledAt: number;
  #timer: CancelTimer | undefined;

  /** `onDelayed` hears of each message that has to wait for its turn. */
  constructor(clock: Clock, policy: PacingPolicy, transmit: (text: string) => void, onDelayed: () => void = () => {}) {
    this.#clock = clock;
    this.#policy = verifyPacing(policy);
    this.#transmit = transmit;
    this.#onDelayed = onDelayed;
    this.#tokens = policy.burst;
    this.#refilledAt = clock.now();
  }

  /** Messages waiting for their turn. */
  get queued(): number {
    return this.#queue.length;
  }

  send(text: string): void {
    if (this.#queue.length === 0 && this.#take()) {
      this.#transmit(text);
      return;
    }
    this.#onDelayed();
    this.#queue.push(text);
    this.#scheduleDrain();
  }

  /** Drops what is waiting (the connection closed). */
  clear(): void {
    this.#queue.length = 0;
    this.#timer?.();
    this.#timer = undefined;
  }

  #refill(): void {
    const now = this.#clock.now();
    const { messagesPerSecond, burst } = this.#policy;
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#refilledAt) / 1000) * messagesPerSecond);
    this.#refilledAt = now;
  }

  #take(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #scheduleDrain(): void {
    if (this.#timer) return;
    this.#refill();
    const waitMs = Math.max(0, ((1 - this.#tokens) / this.#policy.messagesPerSecond) * 1000);
    this.#timer = this.#clock.schedule(Math.ceil(waitMs), () => {
      this.#timer = undefined;
      while (this.#queue.length > 0 && this.#take()) this.#transmit(this.#queue.shift()!);
      if (this.#queue.length > 0) this.#scheduleDrain();
    });
  }
}

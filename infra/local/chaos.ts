/**
 * Chaos mode for tests: what API Gateway and Lambda do on a bad day, made frequent. Handler
 * invocations are always concurrent (as on AWS); chaos adds random delays (so messages overtake each
 * other), posts that are silently lost or throttled, connections that drop without warning, and
 * $disconnect invocations that never come (API Gateway delivers $disconnect on a best-effort basis).
 */
export interface ChaosOptions {
  /** Seed for the pseudo-random choices, so a failing run can be replayed. */
  seed: number;
  /** Each handler invocation waits a random 0..maxDelayMs first. */
  maxDelayMs: number;
  /** Probability that a @connections POST answers 200 but delivers nothing. */
  dropRate: number;
  /** Probability that a @connections POST answers 429 (LimitExceededException). */
  throttleRate: number;
  /** Mean time between forced disconnects of each connection; 0 disables them. */
  meanDisconnectMs: number;
  /**
   * Probability that a closed connection's $disconnect is never invoked (default 0). The relay must then learn
   * from a post that answers 410 Gone, or from the sweeper, which asks @connections.
   */
  disconnectDropRate?: number;
}

export const defaultChaos: ChaosOptions = { seed: 1, maxDelayMs: 5, dropRate: 0.02, throttleRate: 0.01, meanDisconnectMs: 0 };

export type PostFate = 'deliver' | 'drop' | 'throttle';

export interface Chaos {
  beforeInvocation(): Promise<void>;
  postFate(): PostFate;
  /** Schedules forced disconnects of one connection; returns a function that stops them. */
  watchConnection(disconnect: () => void): () => void;
  /** Whether this closed connection's $disconnect is lost. */
  dropsDisconnect(): boolean;
}

/** mulberry32: tiny, fast, good enough to scramble test schedules reproducibly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function createChaos(options: ChaosOptions): Chaos {
  const random = seededRandom(options.seed);
  return {
    async beforeInvocation() {
      const delay = random() * options.maxDelayMs;
      if (delay >= 1) await new Promise((resolve) => setTimeout(resolve, delay));
    },
    postFate() {
      const roll = random();
      if (roll < options.dropRate) return 'drop';
      if (roll < options.dropRate + options.throttleRate) return 'throttle';
      return 'deliver';
    },
    watchConnection(disconnect) {
      if (options.meanDisconnectMs <= 0) return () => {};
      // Exponentially distributed gaps: disconnects arrive at random, not on a beat.
      const timer = setTimeout(disconnect, -Math.log(1 - random()) * options.meanDisconnectMs);
      return () => clearTimeout(timer);
    },
    dropsDisconnect() {
      // No draw when off, so a seed replays the same schedule as before this option existed.
      const rate = options.disconnectDropRate ?? 0;
      return rate > 0 && random() < rate;
    },
  };
}

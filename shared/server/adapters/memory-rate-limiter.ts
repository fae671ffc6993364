import type { RateLimiter } from '../ports/rate-limiter.js';

/** Above this many counters, the ones whose window has passed are dropped (the table's TTL does it there). */
const PRUNE_ABOVE = 1_000;

/** Fixed-window counters in memory, counted as DynamoRateLimiter counts them: one counter per key and window. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly counters = new Map<string, { hits: number; windowEnd: number }>();

  async consume(key: string, limit: number, windowSeconds: number, now: number): Promise<boolean> {
    const windowStart = now - (now % windowSeconds);
    const counterKey = `${key}#${windowStart}`;
    if (this.counters.size > PRUNE_ABOVE) this.prune(now);
    const counter = this.counters.get(counterKey) ?? { hits: 0, windowEnd: windowStart + windowSeconds };
    if (counter.hits >= limit) return false;
    this.counters.set(counterKey, { ...counter, hits: counter.hits + 1 });
    return true;
  }

  private prune(now: number): void {
    for (const [key, counter] of this.counters) if (counter.windowEnd <= now) this.counters.delete(key);
  }
}

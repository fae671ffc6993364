import type { RelayDeps } from './deps.js';
import { RelayError } from './errors.js';

export interface RateRule {
  /** Counter name, including what it is counted per (e.g. `join-ip#203.0.113.7`). */
  key: string;
  limit: number;
  windowSeconds: number;
  /** What the refused caller is told was too frequent. */
  what: string;
}

/** Counts one use against every rule; the first rule at its limit refuses with `rate-limited`. */
export async function enforceRateLimits(deps: RelayDeps, now: number, rules: RateRule[]): Promise<void> {
  for (const rule of rules) {
    if (!(await deps.rateLimiter.consume(rule.key, rule.limit, rule.windowSeconds, now))) {
      const retryAfter = rule.windowSeconds - (now % rule.windowSeconds);
      throw new RelayError('rate-limited', `too many ${rule.what}; try again in ${formatWait(retryAfter)}`);
    }
  }
}

function formatWait(seconds: number): string {
  return seconds < 120 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;
}

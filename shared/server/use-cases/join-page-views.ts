import type { RelayDeps } from './deps.js';
import { epochSeconds } from './deps.js';
import { RelayError } from './errors.js';
import { enforceRateLimits, joinRateRule } from './rate-limits.js';

/**
 * Counts a view of the relay URL's page (`/join/<nameplate>`) with the joins from its address. The
 * page itself looks nothing up, so counting is not what keeps nameplates from being listed; it keeps
 * the page from being a free way to load the relay. Resolves with the refusal's message, if refused.
 */
export async function countJoinPageView(deps: Pick<RelayDeps, 'rateLimiter' | 'clock' | 'policy'>, sourceIp: string): Promise<string | undefined> {
  try {
    await enforceRateLimits(deps, epochSeconds(deps), [joinRateRule(deps.policy, sourceIp)]);
    return undefined;
  } catch (error) {
    if (error instanceof RelayError && error.code === 'rate-limited') return error.message;
    throw error;
  }
}

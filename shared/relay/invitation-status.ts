import type { RelayDeps } from './deps.js';
import { epochSeconds } from './deps.js';
import type { InvitationKind } from '../protocol/messages.js';
import { RelayError } from './errors.js';
import { enforceRateLimits, joinRateRule } from './rate-limits.js';
import { overdueReason } from './session-rules.js';

export type InvitationStatus =
  | { state: 'open'; nameplate: string; kind: InvitationKind; expiresAt: Date; httpUrl: string }
  /** Expired, used, revoked, burned or never issued: one answer, so nameplates cannot be probed for their state. */
  | { state: 'unknown' }
  /** Too many lookups (and joins) from this address: the same answer whether or not the nameplate exists. */
  | { state: 'rate-limited'; message: string };

const nameplatePattern = /^[A-Za-z0-9]{1,32}$/;

/** What the relay URL's page may say about a nameplate: only whether it is an open invitation, and until when. */
export async function invitationStatus(
  deps: Pick<RelayDeps, 'store' | 'endpoints' | 'clock' | 'policy' | 'rateLimiter'>,
  rawNameplate: string,
  sourceIp: string,
): Promise<InvitationStatus> {
  if (!nameplatePattern.test(rawNameplate)) return { state: 'unknown' };
  // Counted with joins, before the lookup: a page view costs a scanner what a join costs.
  try {
    await enforceRateLimits(deps, epochSeconds(deps), [joinRateRule(deps.policy, sourceIp)]);
  } catch (error) {
    if (error instanceof RelayError && error.code === 'rate-limited') return { state: 'rate-limited', message: error.message };
    throw error;
  }
  const nameplate = rawNameplate.toUpperCase();
  const sessionId = await deps.store.findSessionIdByNameplate(nameplate);
  const session = sessionId ? await deps.store.getSession(sessionId) : undefined;
  if (!session || session.state === 'ended' || session.state === 'active') return { state: 'unknown' };
  if (overdueReason(session, epochSeconds(deps), deps.policy)) return { state: 'unknown' };
  return {
    state: 'open',
    nameplate,
    kind: session.kind,
    expiresAt: new Date(session.invitationExpiresAt * 1000),
    httpUrl: deps.endpoints.httpUrl,
  };
}

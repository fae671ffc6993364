import type { Role } from '../../core/messages.js';
import type { SessionRecord } from '../ports/session-store.js';
import { requireBoundConnection } from './connections.js';
import { epochSeconds, type Caller, type RelayDeps } from './deps.js';
import { sessionEndedError } from './errors.js';
import { finishSession } from './finish-session.js';
import { overdueReason, requireSeat } from './session-rules.js';

/**
 * The caller's session for an action on it: not ended, the caller holding its seat, and within every
 * deadline. An overdue session is ended here for its reason (both sides are told) and the action refused.
 */
export async function requireLiveSession(deps: RelayDeps, caller: Caller): Promise<{ session: SessionRecord; role: Role; now: number }> {
  const { sessionId, role } = await requireBoundConnection(deps, caller);
  const session = await deps.store.getSession(sessionId);
  if (!session || session.state === 'ended') throw sessionEndedError(session?.endedReason);
  requireSeat(session, role, caller);
  const now = epochSeconds(deps);
  const overdue = overdueReason(session, now, deps.policy);
  if (overdue) {
    await finishSession(deps, sessionId, overdue);
    throw sessionEndedError(overdue);
  }
  return { session, role, now };
}

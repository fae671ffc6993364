import { epochSeconds, type RelayDeps } from './deps.js';
import { finishSession } from './finish-session.js';
import { overdueReason } from './session-rules.js';

/**
 * Ends every overdue session and tells its participants why. Runs on a schedule (EventBridge on AWS,
 * a timer in the local runtime), because an idle or expired session has no traffic to trigger it.
 */
export async function sweepOverdueSessions(deps: RelayDeps): Promise<number> {
  const now = epochSeconds(deps);
  let ended = 0;
  for await (const session of deps.store.listOpenSessions()) {
    const reason = overdueReason(session, now, deps.policy);
    if (reason && (await finishSession(deps, session.sessionId, reason))) ended++;
  }
  return ended;
}

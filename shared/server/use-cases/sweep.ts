import type { SessionRecord } from '../ports/session-store.js';
import { connectionGone } from './connections.js';
import { epochSeconds, type RelayDeps } from './deps.js';
import { finishSession } from './finish-session.js';
import { overdueReason, roles } from './session-rules.js';

/**
 * Ends every overdue session and tells its participants why, and frees the seats of connections that are
 * gone. Runs on a schedule (EventBridge on AWS, a timer in the local runtime), because an idle or expired
 * session has no traffic to trigger it, and because API Gateway's $disconnect is best effort: a connection
 * can vanish without one. Returns how many sessions it ended.
 */
export async function sweepOverdueSessions(deps: RelayDeps): Promise<number> {
  const now = epochSeconds(deps);
  let ended = 0;
  for await (const session of deps.store.listOpenSessions()) {
    const reason = overdueReason(session, now, deps.policy);
    if (reason) {
      if (await finishSession(deps, session.sessionId, reason)) ended++;
    } else if (isQuiet(session, now)) {
      await freeSeatsOfGoneConnections(deps, session);
    }
  }
  return ended;
}

/**
 * Whether no traffic shows that the session's connections are alive. Frames record activity at most every
 * quarter idle period, and a live client sends at least a heartbeat a minute, whose post to a gone peer
 * answers Gone and frees its seat (relayFrame): so an approved session with recent activity needs no asking.
 * Before approval, a participant may wait in silence (the creator for its helper, each side for the key
 * exchange): always asked.
 */
function isQuiet(session: SessionRecord, now: number): boolean {
  return session.state !== 'active' || now - session.lastActiveAt > session.idleTimeoutSeconds / 4 + 60;
}

/**
 * A seated connection that @connections says is gone is handled as its $disconnect would have handled it:
 * a joiner before approval is removed and the invitation opens again, any other seat waits for its
 * participant to resume, and the peer is told either way (connectionGone).
 */
async function freeSeatsOfGoneConnections(deps: RelayDeps, session: SessionRecord): Promise<void> {
  for (const role of roles) {
    const connectionId = session[role]?.connectionId;
    if (!connectionId || (await deps.notifier.isConnected(connectionId))) continue;
    deps.log.info('connection-gone-without-disconnect', { sessionId: session.sessionId, role });
    deps.routes.delete(connectionId);
    await connectionGone(deps, session.sessionId, role, connectionId);
    await deps.store.deleteConnection(connectionId);
  }
}

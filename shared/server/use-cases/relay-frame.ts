import { MAX_PRE_APPROVAL_FRAME_DATA_CHARS, type ServerMessage } from '../../core/messages.js';
import { connectionGone, requireBoundConnection } from './connections.js';
import type { Caller, RelayDeps } from './deps.js';
import { RelayError, sessionEndedError } from './errors.js';
import { finishSession } from './finish-session.js';
import type { FrameRoute } from './route-cache.js';
import { otherRole, overdueReason, requireSeat } from './session-rules.js';

const peerDisconnected: ServerMessage = { type: 'peer', state: 'disconnected' };

/** Reads the caller's route from the store (two GetItems) and caches it for this container. */
async function loadRoute(deps: RelayDeps, caller: Caller): Promise<FrameRoute> {
  const { sessionId, role } = await requireBoundConnection(deps, caller);
  const session = await deps.store.getSession(sessionId);
  if (!session || session.state === 'ended') {
    throw sessionEndedError(session?.endedReason ?? 'expired');
  }
  requireSeat(session, role, caller);
  const route: FrameRoute = {
    sessionId,
    role,
    peerConnectionId: session[otherRole(role)]?.connectionId,
    state: session.state,
    invitationExpiresAt: session.invitationExpiresAt,
    sessionExpiresAt: session.sessionExpiresAt,
    idleTimeoutSeconds: session.idleTimeoutSeconds,
    lastActiveAt: session.lastActiveAt,
    loadedAt: deps.clock(),
  };
  // A missing peer may resume through another container at any moment, so only complete routes are cached
  // (clients pause while their peer is away, so this costs reads only for the odd in-flight frame).
  if (route.peerConnectionId) deps.routes.set(caller.connectionId, route);
  else deps.routes.delete(caller.connectionId);
  return route;
}

/**
 * Forwards one opaque frame to the sender's peer. Steady state: one cache hit and one post, no store
 * access; the store is read only when the cache is cold or stale, or the peer is gone.
 * Returns the reply for the sender, if any.
 */
export async function relayFrame(deps: RelayDeps, caller: Caller, { data }: { data: string }): Promise<ServerMessage | undefined> {
  const nowMs = deps.clock();
  const now = Math.floor(nowMs / 1000);
  let route = deps.routes.get(caller.connectionId, nowMs);
  let fresh = false;
  if (!route) {
    // Frames arriving together on a cold or stale route (a burst after connecting) share one store read.
    const read = deps.routes.readOnce(caller.connectionId, () => loadRoute(deps, caller));
    route = await read.route;
    fresh = !read.shared;
  }
  // A cached or shared view may be behind another container's activity (an approval, traffic): refusals
  // are decided on fresh data, read at most once per frame.
  const refresh = async (current: FrameRoute): Promise<FrameRoute> => {
    if (fresh) return current;
    fresh = true;
    return loadRoute(deps, caller);
  };
  if (overdueReason(route, now, deps.policy)) {
    route = await refresh(route);
    const reason = overdueReason(route, now, deps.policy);
    if (reason) {
      await finishSession(deps, route.sessionId, reason);
      return undefined;
    }
  }
  if (route.state !== 'active' && data.length > MAX_PRE_APPROVAL_FRAME_DATA_CHARS) {
    route = await refresh(route);
    if (route.state !== 'active') {
      throw new RelayError(
        'not-approved',
        `until the person approves, frames are limited to ${MAX_PRE_APPROVAL_FRAME_DATA_CHARS} characters of data`,
      );
    }
  }
  // Before approval frames are few (a handshake, a hello, heartbeats): their number is capped too,
  // counted in this container at no store cost (on AWS the bound is per warm container).
  if (route.state !== 'active' && deps.routes.countPreApprovalFrame(caller.connectionId) > deps.policy.preApprovalFramesPerConnection) {
    route = await refresh(route);
    if (route.state !== 'active') {
      throw new RelayError('not-approved', `until the person approves, a connection may send at most ${deps.policy.preApprovalFramesPerConnection} frames`);
    }
  }
  await recordActivity(deps, route, now);
  if (!route.peerConnectionId) return peerDisconnected;

  // `data` was validated as base64, so it can be spliced into the JSON without escaping.
  const body = `{"type":"frame","data":"${data}"}`;
  // A throttled post is dropped like any lost frame: the client stream retransmits it.
  if ((await deps.notifier.postRaw(route.peerConnectionId, body)) !== 'gone') return undefined;

  // The peer we knew is gone: it may have resumed on a new connection, or really be away.
  const gonePeer = route.peerConnectionId;
  route = await loadRoute(deps, caller);
  const currentPeer = route.peerConnectionId;
  if (currentPeer && currentPeer !== gonePeer && (await deps.notifier.postRaw(currentPeer, body)) !== 'gone') return undefined;
  // The peer connection still on record has just proved gone, perhaps before its $disconnect ran: the
  // same rules apply (a joiner before approval is removed), and the sender is told by them.
  deps.routes.delete(caller.connectionId);
  if (currentPeer && (await connectionGone(deps, route.sessionId, otherRole(route.role), currentPeer)) !== 'not-held') return undefined;
  return peerDisconnected;
}

/** Idle tracking costs one write per quarter idle period per sender, not one per frame. */
async function recordActivity(deps: RelayDeps, route: FrameRoute, now: number): Promise<void> {
  if (now - route.lastActiveAt < route.idleTimeoutSeconds / 4) return;
  route.lastActiveAt = now;
  await deps.store.touchSession(route.sessionId, now);
}

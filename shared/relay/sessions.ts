import type { ServerMessage, SessionInfo } from '../protocol/messages.js';
import type { ParticipantSeat, SessionRecord } from '../ports/session-store.js';
import { requireBoundConnection, requireUnboundConnection } from './connections.js';
import { epochSeconds, type Caller, type RelayDeps } from './deps.js';
import { RelayError, sessionEndedError } from './errors.js';
import { finishSession } from './finish-session.js';
import { newNameplate } from './codes.js';
import { hashToken, newResumeToken, newSessionId, timingSafeEqualStrings } from './tokens.js';
import { otherRole, overdueReason, roles } from './session-rules.js';

const NAMEPLATE_ATTEMPTS = 8;

/** What a participant is told about its session; the resume token is added only where one is issued. */
function sessionInfo(deps: RelayDeps, session: SessionRecord, role: SessionInfo['role']): Omit<SessionInfo, 'resumeToken'> {
  return {
    sessionId: session.sessionId,
    role,
    expiresAt: session.sessionExpiresAt,
    idleTimeoutSeconds: session.idleTimeoutSeconds,
    resumeGraceSeconds: deps.policy.resumeGraceSeconds,
    peerConnected: Boolean(session[otherRole(role)]?.connectionId),
  };
}

export async function createSession(
  deps: RelayDeps,
  caller: Caller,
  request: { ttlSeconds?: number },
): Promise<ServerMessage> {
  await requireUnboundConnection(deps, caller);
  const now = epochSeconds(deps);
  const ttl = Math.min(request.ttlSeconds ?? deps.policy.sessionTtlSeconds, deps.policy.maxSessionTtlSeconds);
  const sessionId = newSessionId();
  const resumeToken = newResumeToken();
  const session: SessionRecord = {
    sessionId,
    nameplate: await claimFreshNameplate(deps, sessionId, now + ttl),
    state: 'waiting',
    createdAt: now,
    sessionExpiresAt: now + ttl,
    idleTimeoutSeconds: deps.policy.idleTimeoutSeconds,
    lastActiveAt: now,
    agent: { tokenHash: hashToken(resumeToken), connectionId: caller.connectionId },
  };
  await deps.store.createSession(session, recordExpiry(session));
  if (!(await deps.store.bindConnection(caller.connectionId, sessionId, 'agent'))) {
    throw new RelayError('already-in-session', 'this connection already belongs to a session');
  }
  deps.log.info('session-created', { sessionId, ttlSeconds: ttl });
  return { type: 'sessionCreated', nameplate: session.nameplate, resumeToken, ...sessionInfo(deps, session, 'agent') };
}

/** Ended and expired sessions stay readable for an hour so late callers learn why; then TTL removes them. */
function recordExpiry(session: SessionRecord): number {
  return session.sessionExpiresAt + 60 * 60;
}

async function claimFreshNameplate(deps: RelayDeps, sessionId: string, expiresAt: number): Promise<string> {
  for (let attempt = 0; attempt < NAMEPLATE_ATTEMPTS; attempt++) {
    const nameplate = newNameplate();
    if (await deps.store.claimNameplate(nameplate, sessionId, expiresAt)) return nameplate;
  }
  throw new RelayError('internal', 'could not allocate an invitation nameplate; try again');
}

export async function joinSession(deps: RelayDeps, caller: Caller, request: { nameplate: string }): Promise<ServerMessage> {
  await requireUnboundConnection(deps, caller);
  const now = epochSeconds(deps);
  const sessionId = await deps.store.findSessionIdByNameplate(request.nameplate);
  const session = sessionId ? await deps.store.getSession(sessionId) : undefined;
  if (!session) {
    throw new RelayError('session-not-found', 'no open invitation has that code; it may have expired or been used');
  }
  if (session.state === 'ended') throw sessionEndedError(session.endedReason);
  const overdue = overdueReason(session, now, deps.policy);
  if (overdue) {
    await finishSession(deps, session.sessionId, overdue);
    throw new RelayError('session-expired', 'the invitation has expired');
  }
  const resumeToken = newResumeToken();
  const seat: ParticipantSeat = { tokenHash: hashToken(resumeToken), connectionId: caller.connectionId };
  if (session.state !== 'waiting' || !(await deps.store.claimExpertSeat(session.sessionId, seat, now))) {
    throw new RelayError('role-taken', 'someone has already joined this invitation');
  }
  await deps.store.releaseNameplate(request.nameplate, session.sessionId);
  await deps.store.bindConnection(caller.connectionId, session.sessionId, 'expert');
  const agentConnection = session.agent?.connectionId;
  if (agentConnection) await deps.notifier.post(agentConnection, { type: 'peer', state: 'connected' });
  deps.log.info('session-joined', { sessionId: session.sessionId });
  const joined: SessionRecord = { ...session, state: 'joined', expert: seat };
  return { type: 'sessionJoined', nameplate: request.nameplate, resumeToken, ...sessionInfo(deps, joined, 'expert') };
}

export async function resumeSession(
  deps: RelayDeps,
  caller: Caller,
  request: { sessionId: string; resumeToken: string },
): Promise<ServerMessage> {
  await requireUnboundConnection(deps, caller);
  const now = epochSeconds(deps);
  const session = await deps.store.getSession(request.sessionId);
  const tokenHash = hashToken(request.resumeToken);
  const role = session && roles.find((candidate) => timingSafeEqualStrings(session[candidate]?.tokenHash ?? '', tokenHash));
  // One answer for "no such session" and "wrong token", so ids cannot be probed.
  if (!session || !role) throw new RelayError('invalid-resume-token', 'no session matches this id and resume token');
  if (session.state === 'ended') throw sessionEndedError(session.endedReason);
  const overdue = overdueReason(session, now, deps.policy);
  if (overdue) {
    await finishSession(deps, session.sessionId, overdue);
    throw new RelayError('session-expired', `the session can no longer be resumed (${overdue})`);
  }
  const before = await deps.store.attachConnection(session.sessionId, role, caller.connectionId);
  if (!before) throw sessionEndedError(session.endedReason);
  await deps.store.bindConnection(caller.connectionId, session.sessionId, role);
  // A half-open old connection of the same participant (proved by the token) is closed, never the peer's.
  const replaced = before[role]?.connectionId;
  if (replaced && replaced !== caller.connectionId) {
    deps.routes.delete(replaced);
    await deps.notifier.disconnect(replaced);
  }
  const peer = before[otherRole(role)]?.connectionId;
  if (peer) await deps.notifier.post(peer, { type: 'peer', state: 'connected' });
  deps.log.info('session-resumed', { sessionId: session.sessionId, role });
  return { type: 'sessionResumed', ...sessionInfo(deps, before, role) };
}

export async function endSession(deps: RelayDeps, caller: Caller): Promise<ServerMessage | undefined> {
  const { sessionId, role } = await requireBoundConnection(deps, caller);
  const ended = await finishSession(deps, sessionId, role === 'agent' ? 'ended-by-agent' : 'ended-by-expert');
  if (!ended) throw new RelayError('session-ended', 'the session has already ended');
  return undefined;
}

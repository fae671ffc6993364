import { invitationLifetime } from '../config/policy.js';
import { creatorRoleOf, type CreateSessionRequest, type EndSessionRequest, type JoinSessionRequest, type Role, type ServerMessage, type SessionInfo } from '../../core/messages.js';
import type { ParticipantSeat, SessionRecord } from '../ports/session-store.js';
import { recordAudit } from './audit.js';
import { requireUnboundConnection } from './connections.js';
import { epochSeconds, type Caller, type RelayDeps } from './deps.js';
import { RelayError, seatLostError, sessionEndedError, wrongKindError } from './errors.js';
import { finishSession, removeJoiner } from './finish-session.js';
import { requireLiveSession } from './live-session.js';
import { newNameplate } from '../../core/code-alphabet.js';
import { addressNetwork, enforceRateLimits, joinRateRule } from './rate-limits.js';
import { hashToken, newResumeToken, newSessionId, timingSafeEqualStrings } from '../../core/tokens.js';
import { otherRole, overdueReason, roles } from './session-rules.js';

const NAMEPLATE_ATTEMPTS = 8;

/** What a participant is told about its session; the resume token is added only where one is issued. */
function sessionInfo(deps: RelayDeps, session: SessionRecord, role: Role): Omit<SessionInfo, 'resumeToken'> {
  return {
    sessionId: session.sessionId,
    role,
    kind: session.kind,
    invitationExpiresAt: session.invitationExpiresAt,
    maxFailedAttempts: deps.policy.maxFailedAttempts,
    expiresAt: session.sessionExpiresAt,
    idleTimeoutSeconds: session.idleTimeoutSeconds,
    resumeGraceSeconds: deps.policy.resumeGraceSeconds,
    peerConnected: Boolean(session[otherRole(role)]?.connectionId),
  };
}

const newSeat = (connectionId: string) => {
  const resumeToken = newResumeToken();
  const seat: ParticipantSeat = { tokenHash: hashToken(resumeToken), connectionId };
  return { resumeToken, seat };
};

/** Opens an invitation: the caller is its creator (the agent, or the expert for a helper code). */
export async function createSession(
  deps: RelayDeps,
  caller: Caller,
  request: Omit<CreateSessionRequest, 'action'>,
): Promise<ServerMessage> {
  await requireUnboundConnection(deps, caller);
  const now = epochSeconds(deps);
  const { policy } = deps;
  await enforceRateLimits(deps, now, [
    {
      key: `invite-ip#${addressNetwork(caller.sourceIp)}`,
      limit: policy.invitationsPerSourceIp,
      windowSeconds: policy.rateWindowSeconds,
      what: 'invitations from this network address',
    },
  ]);
  const kind = request.kind ?? 'easy-connect';
  const lifetime = invitationLifetime(policy, kind);
  const invitationTtl = Math.min(request.invitationTtlSeconds ?? lifetime.ttlSeconds, lifetime.maxTtlSeconds);
  const sessionTtl = Math.min(request.sessionTtlSeconds ?? policy.sessionTtlSeconds, policy.maxSessionTtlSeconds);
  const creatorRole = creatorRoleOf(kind);
  const sessionId = newSessionId();
  // The connection first: of concurrent requests on one connection one wins, and no invitation is left behind.
  await bindOrRefuse(deps, caller, sessionId, creatorRole);
  const { resumeToken, seat } = newSeat(caller.connectionId);
  const invitationExpiresAt = now + invitationTtl;
  const session: SessionRecord = {
    sessionId,
    nameplate: await claimFreshNameplate(deps, sessionId, invitationExpiresAt),
    kind,
    creatorRole,
    state: 'waiting',
    createdAt: now,
    invitationExpiresAt,
    // An upper bound until approval starts the real clock.
    sessionExpiresAt: invitationExpiresAt + sessionTtl,
    sessionTtlSeconds: sessionTtl,
    failedAttempts: 0,
    idleTimeoutSeconds: policy.idleTimeoutSeconds,
    lastActiveAt: now,
    [creatorRole]: seat,
  };
  await deps.store.createSession(session, recordExpiry(session));
  deps.log.info('session-created', { sessionId, kind, invitationTtlSeconds: invitationTtl });
  await recordAudit(deps, sessionId, { event: 'created', role: creatorRole, detail: kind, nameplate: session.nameplate }, caller);
  return { type: 'sessionCreated', nameplate: session.nameplate, resumeToken, ...sessionInfo(deps, session, creatorRole) };
}

/** One connection holds at most one seat: binding it is the claim, made before the seat is taken. */
async function bindOrRefuse(deps: RelayDeps, caller: Caller, sessionId: string, role: Role): Promise<void> {
  if (!(await deps.store.bindConnection(caller.connectionId, sessionId, role))) {
    throw new RelayError('already-in-session', 'this connection already belongs to a session; open a new connection');
  }
}

/** Ended and expired sessions stay readable for an hour so late callers learn why; then TTL removes them. */
export function recordExpiry(session: Pick<SessionRecord, 'sessionExpiresAt'>): number {
  return session.sessionExpiresAt + 60 * 60;
}

async function claimFreshNameplate(deps: RelayDeps, sessionId: string, expiresAt: number): Promise<string> {
  for (let attempt = 0; attempt < NAMEPLATE_ATTEMPTS; attempt++) {
    const nameplate = newNameplate();
    if (await deps.store.claimNameplate(nameplate, sessionId, expiresAt)) return nameplate;
  }
  throw new RelayError('internal', 'could not allocate an invitation nameplate; try again');
}

/** Takes the open seat of an invitation. At most one joiner at a time; joins are rate-limited. */
export async function joinSession(deps: RelayDeps, caller: Caller, request: Omit<JoinSessionRequest, 'action'>): Promise<ServerMessage> {
  await requireUnboundConnection(deps, caller);
  const now = epochSeconds(deps);
  const { policy } = deps;
  const { nameplate } = request;
  // Counted before the lookup, so guessing nameplates costs the same as guessing secrets. Only per
  // address (an IPv6 /64): a per-invitation count of joins would let anyone lock the real helper out;
  // what an invitation limits is failed key confirmations (reportFailedAttempt).
  await enforceRateLimits(deps, now, [joinRateRule(policy, caller.sourceIp)]);
  const sessionId = await deps.store.findSessionIdByNameplate(nameplate);
  const session = sessionId ? await deps.store.getSession(sessionId) : undefined;
  if (!session) {
    throw new RelayError('session-not-found', 'no open invitation has that code; it may have expired or been used');
  }
  if (session.state === 'ended') throw sessionEndedError(session.endedReason);
  const overdue = overdueReason(session, now, policy);
  if (overdue) {
    await finishSession(deps, session.sessionId, overdue);
    throw new RelayError('session-expired', 'the invitation has expired');
  }
  // A mix-up (a helper code given where an Easy Connect password goes, or the reverse) is answered
  // before the seat: it must not keep the real joiner out, nor count as a guess.
  if (request.expectedKind !== undefined && request.expectedKind !== session.kind) throw wrongKindError(session.kind, request.expectedKind);
  const joinerRole = otherRole(session.creatorRole);
  if (session.state !== 'waiting') throw roleTakenError();
  await bindOrRefuse(deps, caller, session.sessionId, joinerRole);
  const { resumeToken, seat } = newSeat(caller.connectionId);
  if (!(await deps.store.claimJoinerSeat(session.sessionId, joinerRole, seat, now))) {
    await deps.store.unbindConnection(caller.connectionId, session.sessionId);
    throw roleTakenError();
  }
  const creatorConnection = session[session.creatorRole]?.connectionId;
  if (creatorConnection) await deps.notifier.post(creatorConnection, { type: 'peer', state: 'connected' });
  deps.log.info('session-joined', { sessionId: session.sessionId, role: joinerRole });
  await recordAudit(deps, session.sessionId, { event: 'joined', role: joinerRole }, caller);
  const joined: SessionRecord = { ...session, state: 'joined', [joinerRole]: seat };
  return { type: 'sessionJoined', nameplate, resumeToken, ...sessionInfo(deps, joined, joinerRole) };
}

const roleTakenError = () => new RelayError('role-taken', 'someone else has already joined this invitation');

/** How long at most a resume token stays good after the one that replaced it was issued (capped by the resume grace). */
export const PREVIOUS_TOKEN_GRACE_SECONDS = 5 * 60;

/** Which seat a token opens: the seat's newest token, or the one it replaced while that is still good. */
function seatOpenedBy(session: SessionRecord, tokenHash: string, now: number): Role | undefined {
  return roles.find((role) => {
    const seat = session[role];
    if (!seat) return false;
    const newest = timingSafeEqualStrings(seat.tokenHash, tokenHash);
    const previous = seat.previousTokenHash !== undefined && (seat.previousTokenUntil ?? 0) > now && timingSafeEqualStrings(seat.previousTokenHash, tokenHash);
    return newest || previous;
  });
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
  const role = session && seatOpenedBy(session, tokenHash, now);
  // One answer for "no such session" and "wrong token", so ids cannot be probed.
  if (!session || !role) throw new RelayError('invalid-resume-token', 'no session matches this id and resume token');
  if (session.state === 'ended') throw sessionEndedError(session.endedReason);
  const overdue = overdueReason(session, now, deps.policy);
  if (overdue) {
    await finishSession(deps, session.sessionId, overdue);
    throw new RelayError('session-expired', `the session can no longer be resumed (${overdue})`);
  }
  await bindOrRefuse(deps, caller, session.sessionId, role);
  // The token rotates on every resume, so a copy of an old one is useless. The one just presented
  // stays good until the new one is used (within PREVIOUS_TOKEN_GRACE_SECONDS): the reply carrying
  // the new one may be lost, and the client then tries again with what it has.
  const next = newResumeToken();
  const before = await deps.store.attachConnection(session.sessionId, role, caller.connectionId, {
    presented: tokenHash,
    next: hashToken(next),
    now,
    previousUntil: now + Math.min(deps.policy.resumeGraceSeconds, PREVIOUS_TOKEN_GRACE_SECONDS),
  });
  if (!before) {
    await deps.store.unbindConnection(caller.connectionId, session.sessionId);
    const current = await deps.store.getSession(session.sessionId);
    if (!current || current.state === 'ended') throw sessionEndedError(current?.endedReason ?? session.endedReason);
    // A concurrent resume used the newer token meanwhile.
    throw new RelayError('invalid-resume-token', 'no session matches this id and resume token');
  }
  // A half-open old connection of the same participant (proved by the token) is closed, never the peer's.
  const replaced = before[role]?.connectionId;
  if (replaced && replaced !== caller.connectionId) {
    deps.routes.delete(replaced);
    await deps.notifier.disconnect(replaced);
  }
  const peer = before[otherRole(role)]?.connectionId;
  if (peer) await deps.notifier.post(peer, { type: 'peer', state: 'connected' });
  deps.log.info('session-resumed', { sessionId: session.sessionId, role });
  const resumed: ServerMessage = { type: 'sessionResumed', resumeToken: next, ...sessionInfo(deps, before, role) };
  if (role !== session.creatorRole || before.state !== 'waiting') return resumed;
  // A joiner may have been removed while the creator was away and missed the notice: repeat it after
  // the reply, so the creator drops that joiner's streams before the next one arrives. The reply is
  // posted now and the notice is the route's answer, which API Gateway sends once the handler returns.
  await deps.notifier.post(caller.connectionId, resumed);
  return { type: 'peer', state: 'left' };
}

/**
 * Ends the session, with the reason its state gives the request: the creator withdrawing an open
 * invitation revokes it; the agent refusing the expert denies it; a joiner leaving before approval
 * only leaves (the invitation opens again); the agent ending an approved session for inactivity
 * ends it 'idle-timeout'; either side ending an approved session because the other broke the
 * assistance protocol ends it 'protocol-violation'; otherwise the caller ends it for both.
 */
export async function endSession(
  deps: RelayDeps,
  caller: Caller,
  request: Omit<EndSessionRequest, 'action'> = {},
): Promise<ServerMessage | undefined> {
  const { session, role } = await requireLiveSession(deps, caller);
  const { sessionId } = session;
  const endedByCaller = role === 'agent' ? 'ended-by-agent' : 'ended-by-expert';
  if (request.reason === 'denied') {
    if (role !== 'agent') throw new RelayError('wrong-role', 'only the person who asked for help can deny the expert');
    if (session.state !== 'joined') throw new RelayError('invalid-state', 'there is no one waiting for approval');
  } else if (request.reason === 'idle-timeout') {
    if (role !== 'agent') throw new RelayError('wrong-role', 'only the person’s side keeps the idle limit');
    if (session.state !== 'active') throw new RelayError('invalid-state', 'only an approved session ends for inactivity');
  } else if (role !== session.creatorRole && session.state === 'joined') {
    if (!(await removeJoiner(deps, session, caller.connectionId, endedByCaller, caller))) throw seatLostError();
    return undefined;
  }
  // Before approval nothing was shared: a protocol violation then ends as the caller's plain end.
  const asked = request.reason === 'protocol-violation' && session.state !== 'active' ? undefined : request.reason;
  const reason = asked ?? (session.state === 'waiting' && role === session.creatorRole ? 'revoked' : endedByCaller);
  if (!(await finishSession(deps, sessionId, reason, caller))) throw new RelayError('session-ended', 'the session has already ended');
  return undefined;
}

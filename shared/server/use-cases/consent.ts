// What the relay learns of the user's decisions, which are made inside the encrypted channel:
// that the agent approved (so frames are no longer limited), that a key confirmation failed (so the
// invitation counts a guess and eventually burns), and the events the audit log keeps.

import type { ApprovalMode, RecordableEvent, ServerMessage } from '../../core/messages.js';
import { recordAudit } from './audit.js';
import type { Caller, RelayDeps } from './deps.js';
import { RelayError } from './errors.js';
import { finishSession, removeJoiner } from './finish-session.js';
import { requireLiveSession } from './live-session.js';
import { otherRole } from './session-rules.js';

export async function approveSession(deps: RelayDeps, caller: Caller, request: { mode: ApprovalMode }): Promise<ServerMessage> {
  const { session, role, now } = await requireLiveSession(deps, caller);
  if (role !== 'agent') throw new RelayError('wrong-role', 'only the person who asked for help can approve');
  // The same approval again (its answer was lost with a connection): the same answer, nothing redone.
  if (session.state === 'active' && session.approvedMode === request.mode) {
    return { type: 'sessionActive', mode: session.approvedMode, expiresAt: session.sessionExpiresAt };
  }
  if (session.state !== 'joined') {
    throw new RelayError('invalid-state', session.state === 'active' ? 'the session is already approved' : 'no one has joined yet');
  }
  const expiresAt = now + session.sessionTtlSeconds;
  const active = await deps.store.activateSession(session.sessionId, request.mode, now, expiresAt);
  if (!active) throw new RelayError('invalid-state', 'the expert left before the approval arrived');
  await deps.store.releaseNameplate(session.nameplate, session.sessionId);
  const approved: ServerMessage = { type: 'sessionActive', mode: request.mode, expiresAt };
  const expertConnection = active.expert?.connectionId;
  // Routes cached before approval carry the pre-approval limit.
  deps.routes.delete(caller.connectionId);
  if (expertConnection) {
    deps.routes.delete(expertConnection);
    await deps.notifier.post(expertConnection, approved);
  }
  deps.log.info('session-approved', { sessionId: session.sessionId, mode: request.mode });
  await recordAudit(deps, session.sessionId, { event: 'approved', role, detail: request.mode }, caller);
  return approved;
}

/**
 * The creator's handshake failed in a way that may have been a guess at the secret: count it. Below
 * the limit the joiner is removed and the invitation opens again; at the limit it burns.
 */
export async function reportFailedAttempt(deps: RelayDeps, caller: Caller): Promise<ServerMessage | undefined> {
  const { session, role } = await requireLiveSession(deps, caller);
  if (role !== session.creatorRole) throw new RelayError('wrong-role', 'only the invitation’s creator reports failed attempts');
  if (session.state === 'active') throw new RelayError('invalid-state', 'the session is already approved');
  const counted = await deps.store.countFailedAttempt(session.sessionId);
  if (!counted) throw new RelayError('invalid-state', 'the session was approved or ended meanwhile');
  await recordAudit(deps, session.sessionId, { event: 'confirmation-failed', role }, caller);
  const { maxFailedAttempts } = deps.policy;
  const burned = counted.failedAttempts >= maxFailedAttempts;
  const verdict: ServerMessage = { type: 'attemptRecorded', failedAttempts: counted.failedAttempts, maxFailedAttempts, burned };
  // The verdict goes out before the consequences (the joiner leaving, or the end, which closes the
  // caller's connection), so the creator always hears it first.
  await deps.notifier.post(caller.connectionId, verdict);
  const joiner = counted[otherRole(session.creatorRole)]?.connectionId;
  if (burned) await finishSession(deps, session.sessionId, 'burned');
  else if (counted.state === 'joined' && joiner) await removeJoiner(deps, counted, joiner, 'confirmation-failed');
  return undefined;
}

/** Agent only, once approved: records what the user decided inside the encrypted channel. */
export async function recordEvent(deps: RelayDeps, caller: Caller, request: { event: RecordableEvent }): Promise<ServerMessage> {
  const { session, role } = await requireLiveSession(deps, caller);
  if (role !== 'agent') throw new RelayError('wrong-role', 'only the person who asked for help records session events');
  if (session.state !== 'active') throw new RelayError('invalid-state', 'the session has not been approved');
  await recordAudit(deps, session.sessionId, { event: request.event, role }, caller);
  return { type: 'eventRecorded', event: request.event };
}

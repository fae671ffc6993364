// The session's hard time limit, which the person can move: an extension is the agent's decision,
// bounded by the operator's cap counted from the approval, and audited.

import type { ServerMessage } from '../../core/messages.js';
import type { SessionRecord } from '../ports/session-store.js';
import type { RelayPolicy } from '../config/policy.js';
import { recordAudit } from './audit.js';
import type { Caller, RelayDeps } from './deps.js';
import { RelayError } from './errors.js';
import { requireLiveSession } from './live-session.js';
import { recordExpiry } from './sessions.js';

/** The latest an active session may end: its approval plus the operator's cap. */
export function latestExpiry(session: Pick<SessionRecord, 'approvedAt' | 'sessionExpiresAt' | 'sessionTtlSeconds'>, policy: RelayPolicy): number {
  // Sessions approved before approvedAt was kept: their expiry was approval + their lifetime.
  const approvedAt = session.approvedAt ?? session.sessionExpiresAt - session.sessionTtlSeconds;
  return approvedAt + policy.maxSessionTtlSeconds;
}

/** Agent only, once approved: adds time to the hard limit, up to the cap; both sides learn the new limit. */
export async function extendSession(deps: RelayDeps, caller: Caller, request: { seconds: number }): Promise<ServerMessage> {
  const { session, role } = await requireLiveSession(deps, caller);
  if (role !== 'agent') throw new RelayError('wrong-role', 'only the person who asked for help can extend the session');
  if (session.state !== 'active') throw new RelayError('invalid-state', 'the session has not been approved yet');
  const maxExpiresAt = latestExpiry(session, deps.policy);
  const expiresAt = Math.min(session.sessionExpiresAt + request.seconds, maxExpiresAt);
  // At the cap already: the answer says so (expiresAt equals maxExpiresAt), and nothing changes.
  if (expiresAt <= session.sessionExpiresAt) return { type: 'sessionExtended', expiresAt: session.sessionExpiresAt, maxExpiresAt };
  const extended = await deps.store.extendSession(session.sessionId, expiresAt, recordExpiry({ sessionExpiresAt: expiresAt }));
  if (!extended) throw new RelayError('invalid-state', 'the session ended or was extended meanwhile; check the time left and try again');
  const notice: ServerMessage = { type: 'sessionExtended', expiresAt, maxExpiresAt };
  // Cached frame routes carry the old limit.
  deps.routes.delete(caller.connectionId);
  const expertConnection = extended.expert?.connectionId;
  if (expertConnection) {
    deps.routes.delete(expertConnection);
    await deps.notifier.post(expertConnection, notice);
  }
  deps.log.info('session-extended', { sessionId: session.sessionId, expiresAt });
  await recordAudit(deps, session.sessionId, { event: 'extended', role, detail: String(expiresAt) }, caller);
  return notice;
}

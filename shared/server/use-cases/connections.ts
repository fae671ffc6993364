import { epochSeconds, type Caller, type RelayDeps } from './deps.js';
import { RelayError } from './errors.js';
import { removeJoiner } from './finish-session.js';
import { otherRole } from './session-rules.js';
import type { ConnectionRecord } from '../ports/session-store.js';
import type { Role } from '../../core/messages.js';

/** API Gateway closes every connection after 2 hours; the record lingers a little for $disconnect. */
const CONNECTION_RECORD_TTL_SECONDS = 2 * 60 * 60 + 10 * 60;

export async function openConnection(deps: RelayDeps, caller: Caller): Promise<void> {
  const now = epochSeconds(deps);
  await deps.store.putConnection(
    { connectionId: caller.connectionId, sourceIp: caller.sourceIp, connectedAt: now },
    now + CONNECTION_RECORD_TTL_SECONDS,
  );
}

/** On $disconnect: what a gone connection means for the seat it holds (connectionGone), then the record goes. */
export async function closeConnection(deps: RelayDeps, caller: Caller): Promise<void> {
  deps.routes.delete(caller.connectionId);
  const connection = await deps.store.getConnection(caller.connectionId);
  if (connection?.sessionId && connection.role) await connectionGone(deps, connection.sessionId, connection.role, connection.connectionId, caller);
  await deps.store.deleteConnection(caller.connectionId);
}

/**
 * A participant's connection has proved gone ($disconnect, or a post to it answered Gone, whichever
 * comes first), and with it, only if it still holds it, its seat: a joiner's seat before approval
 * needs a live connection, so the joiner is removed and the invitation opens again ('removed': a
 * join and a dropped connection cannot block the real helper). After approval, and the creator's
 * at any time, a seat waits for its participant to resume ('detached': the peer is told).
 */
export async function connectionGone(
  deps: RelayDeps,
  sessionId: string,
  role: Role,
  connectionId: string,
  caller?: Caller,
): Promise<'removed' | 'detached' | 'not-held'> {
  const current = await deps.store.getSession(sessionId);
  if (current?.state === 'joined' && role !== current.creatorRole && (await removeJoiner(deps, current, connectionId, 'peer-gone', caller))) return 'removed';
  const session = await deps.store.detachConnection(sessionId, role, connectionId, epochSeconds(deps));
  if (!session) return 'not-held';
  const peer = session.state !== 'ended' ? session[otherRole(role)]?.connectionId : undefined;
  if (peer) await deps.notifier.post(peer, { type: 'peer', state: 'disconnected' });
  deps.log.info('participant-disconnected', { sessionId, role });
  return 'detached';
}

/** The caller's connection record, which must not belong to a session yet. */
export async function requireUnboundConnection(deps: RelayDeps, caller: Caller): Promise<ConnectionRecord> {
  const connection = await deps.store.getConnection(caller.connectionId);
  if (!connection) throw new RelayError('internal', 'this connection is not registered; reconnect');
  if (connection.sessionId) {
    throw new RelayError('already-in-session', 'this connection already belongs to a session; open a new connection');
  }
  return connection;
}

/** The caller's connection record, which must belong to a session. */
export async function requireBoundConnection(
  deps: RelayDeps,
  caller: Caller,
): Promise<Required<Pick<ConnectionRecord, 'sessionId' | 'role'>>> {
  const connection = await deps.store.getConnection(caller.connectionId);
  if (!connection?.sessionId || !connection.role) {
    throw new RelayError('not-in-session', 'this connection has not created, joined or resumed a session');
  }
  return { sessionId: connection.sessionId, role: connection.role };
}

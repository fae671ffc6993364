import type { EndReason, OfferAnswer } from '../../core/messages.js';
import type { SessionRecord } from '../ports/session-store.js';
import { recordAudit } from './audit.js';
import { epochSeconds, type Caller, type RelayDeps } from './deps.js';
import { connectedParticipants, otherRole } from './session-rules.js';

/**
 * Ends a session exactly once (a conditional write decides the winner), tells every connected
 * participant why (for a help-desk offer turned down, with the device's answer), then closes their
 * connections so nothing more can be relayed for it.
 */
export async function finishSession(deps: RelayDeps, sessionId: string, reason: EndReason, caller?: Caller, offerAnswer?: OfferAnswer): Promise<boolean> {
  const before = await deps.store.endSession(sessionId, reason, epochSeconds(deps));
  if (!before) return false;
  deps.log.info('session-ended', { sessionId, reason });
  // Approval releases the nameplate; until then the invitation still holds it.
  if (before.state !== 'active') await deps.store.releaseNameplate(before.nameplate, sessionId);
  await Promise.all(
    connectedParticipants(before).map(async (connectionId) => {
      deps.routes.delete(connectionId);
      await deps.notifier.post(connectionId, { type: 'ended', reason, ...(offerAnswer && { offerAnswer }) });
      await deps.notifier.disconnect(connectionId);
    }),
  );
  await recordAudit(deps, sessionId, { event: 'ended', detail: reason }, caller);
  return true;
}

/**
 * Removes the joiner before approval and opens the invitation again: the joiner is told why and
 * disconnected, the creator learns its peer left. False if that connection no longer held the seat.
 */
export async function removeJoiner(
  deps: RelayDeps,
  session: SessionRecord,
  joinerConnectionId: string,
  reason: EndReason,
  caller?: Caller,
): Promise<boolean> {
  const joinerRole = otherRole(session.creatorRole);
  const reopened = await deps.store.releaseJoinerSeat(session.sessionId, joinerRole, joinerConnectionId);
  if (!reopened) return false;
  deps.routes.delete(joinerConnectionId);
  await deps.notifier.post(joinerConnectionId, { type: 'ended', reason });
  await deps.notifier.disconnect(joinerConnectionId);
  const creatorConnection = reopened[session.creatorRole]?.connectionId;
  if (creatorConnection) {
    deps.routes.delete(creatorConnection);
    await deps.notifier.post(creatorConnection, { type: 'peer', state: 'left' });
  }
  deps.log.info('joiner-removed', { sessionId: session.sessionId, reason });
  await recordAudit(deps, session.sessionId, { event: 'left', role: joinerRole, detail: reason }, caller);
  return true;
}

import type { EndReason } from '../protocol/messages.js';
import { epochSeconds, type RelayDeps } from './deps.js';
import { connectedParticipants } from './session-rules.js';

/**
 * Ends a session exactly once (a conditional write decides the winner), tells every connected
 * participant why, then closes their connections so nothing more can be relayed for it.
 */
export async function finishSession(deps: RelayDeps, sessionId: string, reason: EndReason): Promise<boolean> {
  const before = await deps.store.endSession(sessionId, reason, epochSeconds(deps));
  if (!before) return false;
  deps.log.info('session-ended', { sessionId, reason });
  // Joining releases the nameplate, so only a session still waiting for its expert holds one.
  if (before.state === 'waiting') await deps.store.releaseNameplate(before.nameplate, sessionId);
  await Promise.all(
    connectedParticipants(before).map(async (connectionId) => {
      deps.routes.delete(connectionId);
      await deps.notifier.post(connectionId, { type: 'ended', reason });
      await deps.notifier.disconnect(connectionId);
    }),
  );
  return true;
}

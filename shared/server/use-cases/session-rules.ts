import type { RelayPolicy } from '../config/policy.js';
import type { SessionRecord } from '../ports/session-store.js';
import type { EndReason, Role } from '../../core/messages.js';
import type { Caller } from './deps.js';
import { seatLostError } from './errors.js';

export const roles: readonly Role[] = ['agent', 'expert'];

export function otherRole(role: Role): Role {
  return role === 'agent' ? 'expert' : 'agent';
}

/** The parts of a session that decide whether it is overdue (a cached frame route has them too). */
export type SessionDeadlines = Pick<
  SessionRecord,
  'state' | 'invitationExpiresAt' | 'sessionExpiresAt' | 'lastActiveAt' | 'idleTimeoutSeconds' | 'agent' | 'expert'
>;

/** Why a session must end now, or undefined while it may go on. Checked on every action, not left to TTL. */
export function overdueReason(session: SessionDeadlines, nowSeconds: number, policy: RelayPolicy): EndReason | undefined {
  if (nowSeconds >= session.sessionExpiresAt) return 'expired';
  // Until approval the invitation's own lifetime rules; an open invitation is not idle, it waits.
  if (session.state !== 'active' && nowSeconds >= session.invitationExpiresAt) return 'expired';
  if (session.state !== 'waiting' && nowSeconds >= session.lastActiveAt + session.idleTimeoutSeconds) return 'idle-timeout';
  for (const role of roles) {
    const seat = session[role];
    if (seat && !seat.connectionId && seat.disconnectedAt !== undefined) {
      if (nowSeconds >= seat.disconnectedAt + policy.resumeGraceSeconds) return 'peer-gone';
    }
  }
  return undefined;
}

export function connectedParticipants(session: SessionRecord): string[] {
  return roles.flatMap((role) => session[role]?.connectionId ?? []);
}

/** Only the connection holding a seat acts for it: a replaced or removed connection may still be bound. */
export function requireSeat(session: SessionRecord, role: Role, caller: Caller): void {
  if (session[role]?.connectionId !== caller.connectionId) throw seatLostError();
}

import type { ApprovalMode, EndReason, InvitationKind, Role } from '../../core/messages.js';

export type SessionState = 'waiting' | 'joined' | 'active' | 'ended';

/** One participant's seat in a session. */
export interface ParticipantSeat {
  /** SHA-256 of the newest resume token, base64url; the token itself is never stored. */
  tokenHash: string;
  /**
   * The token the newest one replaced on a resume, accepted until `previousTokenUntil` (epoch seconds)
   * or until the newest is used: the reply carrying the newest may have been lost.
   */
  previousTokenHash?: string;
  previousTokenUntil?: number;
  /** Current connection, absent while disconnected. */
  connectionId?: string;
  /** Epoch seconds when the connection dropped; cleared on resume. */
  disconnectedAt?: number;
}

export interface SessionRecord {
  sessionId: string;
  nameplate: string;
  kind: InvitationKind;
  /** Who created the invitation (and holds its secret): the agent, or the expert for a helper code. */
  creatorRole: Role;
  state: SessionState;
  createdAt: number;
  /** Until when the invitation can be joined (while waiting or joined), epoch seconds. */
  invitationExpiresAt: number;
  /** Hard expiry, epoch seconds: an upper bound while the invitation is open, approval + sessionTtlSeconds once active. */
  sessionExpiresAt: number;
  /** The session lifetime granted at creation, counted from approval. */
  sessionTtlSeconds: number;
  /** Failed key confirmations reported by the creator. */
  failedAttempts: number;
  approvedMode?: ApprovalMode;
  /** When the agent approved, epoch seconds: the session's lifetime and its cap count from here. */
  approvedAt?: number;
  idleTimeoutSeconds: number;
  /** Last time traffic was seen, epoch seconds (updated sparingly, see relayFrame). */
  lastActiveAt: number;
  agent?: ParticipantSeat;
  expert?: ParticipantSeat;
  endedReason?: EndReason;
}

/** One resume's change of a seat's token hashes (attachConnection). */
export interface TokenRotation {
  presented: string;
  next: string;
  now: number;
  previousUntil: number;
}

export interface ConnectionRecord {
  connectionId: string;
  connectedAt: number;
  sourceIp: string;
  sessionId?: string;
  role?: Role;
}

/**
 * Persistence for sessions and connections. Every read treats an expired item as absent.
 * Races are settled by conditional writes: methods that can lose a race return false (or undefined)
 * instead of throwing, so use cases decide what the loser is told.
 */
export interface SessionStore {
  putConnection(connection: ConnectionRecord, expiresAt: number): Promise<void>;
  getConnection(connectionId: string): Promise<ConnectionRecord | undefined>;
  /** Binds an unbound connection to a session seat; false if it is already bound (or gone). */
  bindConnection(connectionId: string, sessionId: string, role: Role): Promise<boolean>;
  /** Undoes bindConnection when the seat could not be taken after all; only if still bound to that session. */
  unbindConnection(connectionId: string, sessionId: string): Promise<void>;
  deleteConnection(connectionId: string): Promise<void>;

  /** Reserves a nameplate for a session; false if the nameplate is taken. */
  claimNameplate(nameplate: string, sessionId: string, expiresAt: number): Promise<boolean>;
  findSessionIdByNameplate(nameplate: string): Promise<string | undefined>;
  /** Frees a nameplate, only if it still points at this session. */
  releaseNameplate(nameplate: string, sessionId: string): Promise<void>;

  createSession(session: SessionRecord, expiresAt: number): Promise<void>;
  getSession(sessionId: string): Promise<SessionRecord | undefined>;
  /** Seats the joiner while the session waits; false if someone else got there first or it stopped waiting. */
  claimJoinerSeat(sessionId: string, role: Role, seat: ParticipantSeat, now: number): Promise<boolean>;
  /**
   * Empties the joiner's seat while joined, only if this connection holds it, and opens the invitation
   * again; returns the session as it is now, or undefined if the seat was not this connection's.
   */
  releaseJoinerSeat(sessionId: string, role: Role, connectionId: string): Promise<SessionRecord | undefined>;
  /** Counts a failed key confirmation while the invitation is open; returns the session as it is now, or undefined once approved or ended. */
  countFailedAttempt(sessionId: string): Promise<SessionRecord | undefined>;
  /** Counts one email of a waiting invitation; false once `limit` were sent (then nothing is counted). */
  countEmail(sessionId: string, limit: number): Promise<boolean>;
  /** Gives back an email countEmail reserved, when the mail service did not accept it. */
  uncountEmail(sessionId: string): Promise<void>;
  /**
   * Moves an active session's hard expiry later, to `sessionExpiresAt` (and the item's TTL to
   * `recordExpiresAt`); undefined if it is not active or already expires as late.
   */
  extendSession(sessionId: string, sessionExpiresAt: number, recordExpiresAt: number): Promise<SessionRecord | undefined>;
  /** joined → active; returns the session as it is now, or undefined if it was not joined. */
  activateSession(sessionId: string, mode: ApprovalMode, now: number, sessionExpiresAt: number): Promise<SessionRecord | undefined>;
  /**
   * Puts a connection in a role's seat and rotates its token, only if `rotation.presented` is still the
   * seat's newest token hash, or its previous one before `rotation.now`'s grace ran out: the seat's
   * newest becomes `rotation.next`, its previous `rotation.presented` until `rotation.previousUntil`.
   * Returns the session as it was before, or undefined if it ended or the token is no longer accepted.
   */
  attachConnection(sessionId: string, role: Role, connectionId: string, rotation: TokenRotation): Promise<SessionRecord | undefined>;
  /** Empties a role's seat only if this connection still holds it; returns the session as it is now, or undefined if the seat was not this connection's. */
  detachConnection(sessionId: string, role: Role, connectionId: string, now: number): Promise<SessionRecord | undefined>;
  /** Records traffic for idle tracking; ignored once the session ended. */
  touchSession(sessionId: string, now: number): Promise<void>;
  /** Ends a session once; returns it as it was, or undefined if it had already ended. */
  endSession(sessionId: string, reason: EndReason, now: number): Promise<SessionRecord | undefined>;
  /** Sessions not yet ended, for the sweeper. */
  listOpenSessions(): AsyncIterable<SessionRecord>;
}

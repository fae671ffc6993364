import type { ApprovalMode, EndReason, Role } from '../../core/messages.js';
import type { ConnectionRecord, ParticipantSeat, SessionRecord, SessionStore, TokenRotation } from '../ports/session-store.js';

/** What the table keeps beside a session's record: the counters only the store reads. */
type SessionItem = SessionRecord & { emailsSent?: number; endedAt?: number };

interface Stored<T> {
  value: T;
  /** Epoch seconds, as the table's TTL attribute. */
  expiresAt: number;
}

/**
 * Items are copied in and out, as through a database: no caller can change the store's state except through
 * its methods. Undefined fields are dropped, as the document client's `removeUndefinedValues` does.
 */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * The session store in memory, with DynamoDbSessionStore's semantics (test/contract/ runs one suite against
 * both): every read treats an item past `expiresAt` as absent, but an expired item that has not been
 * deleted yet still exists for a conditional write, exactly as an item DynamoDB's TTL has not reached
 * (`deleteExpired` plays TTL). Each conditional write is one synchronous step, so concurrent calls race
 * as they do on the table: one wins, the others get false or undefined.
 */
export class MemorySessionStore implements SessionStore {
  private readonly connections = new Map<string, Stored<ConnectionRecord>>();
  private readonly nameplates = new Map<string, Stored<{ sessionId: string }>>();
  private readonly sessions = new Map<string, Stored<SessionItem>>();

  constructor(
    /** Epoch seconds; items past their `expiresAt` are absent to reads. */
    private readonly nowSeconds: () => number,
  ) {}

  private live<T>(map: Map<string, Stored<T>>, key: string): T | undefined {
    const stored = map.get(key);
    return stored && stored.expiresAt > this.nowSeconds() ? copy(stored.value) : undefined;
  }

  /** Applies `change` to a session if it exists and `condition` holds; the session before and after, or undefined. */
  private update(
    sessionId: string,
    condition: (session: SessionItem, stored: Stored<SessionItem>) => boolean,
    change: (session: SessionItem, stored: Stored<SessionItem>) => void,
  ): { before: SessionRecord; after: SessionRecord } | undefined {
    const stored = this.sessions.get(sessionId);
    if (!stored || !condition(stored.value, stored)) return undefined;
    const before = copy(stored.value);
    change(stored.value, stored);
    stored.value = copy(stored.value);
    return { before, after: copy(stored.value) };
  }

  async putConnection(connection: ConnectionRecord, expiresAt: number): Promise<void> {
    this.connections.set(connection.connectionId, { value: copy(connection), expiresAt });
  }

  async getConnection(connectionId: string): Promise<ConnectionRecord | undefined> {
    return this.live(this.connections, connectionId);
  }

  async bindConnection(connectionId: string, sessionId: string, role: Role): Promise<boolean> {
    const stored = this.connections.get(connectionId);
    if (!stored || stored.value.sessionId !== undefined) return false;
    stored.value = { ...stored.value, sessionId, role };
    return true;
  }

  async unbindConnection(connectionId: string, sessionId: string): Promise<void> {
    const stored = this.connections.get(connectionId);
    if (stored?.value.sessionId !== sessionId) return;
    const { sessionId: _sessionId, role: _role, ...unbound } = stored.value;
    stored.value = unbound;
  }

  async deleteConnection(connectionId: string): Promise<void> {
    this.connections.delete(connectionId);
  }

  async claimNameplate(nameplate: string, sessionId: string, expiresAt: number): Promise<boolean> {
    const stored = this.nameplates.get(nameplate);
    // An expired nameplate counts as free even before TTL removes it.
    if (stored && stored.expiresAt > this.nowSeconds()) return false;
    this.nameplates.set(nameplate, { value: { sessionId }, expiresAt });
    return true;
  }

  async findSessionIdByNameplate(nameplate: string): Promise<string | undefined> {
    return this.live(this.nameplates, nameplate)?.sessionId;
  }

  async releaseNameplate(nameplate: string, sessionId: string): Promise<void> {
    if (this.nameplates.get(nameplate)?.value.sessionId === sessionId) this.nameplates.delete(nameplate);
  }

  async createSession(session: SessionRecord, expiresAt: number): Promise<void> {
    if (this.sessions.has(session.sessionId)) throw new Error(`session ${session.sessionId} already exists`);
    this.sessions.set(session.sessionId, { value: copy(session), expiresAt });
  }

  async getSession(sessionId: string): Promise<SessionRecord | undefined> {
    return this.live(this.sessions, sessionId);
  }

  async claimJoinerSeat(sessionId: string, role: Role, seat: ParticipantSeat, now: number): Promise<boolean> {
    const claimed = this.update(
      sessionId,
      (session, stored) => session.state === 'waiting' && session[role] === undefined && stored.expiresAt > now,
      (session) => {
        session[role] = copy(seat);
        session.state = 'joined';
        session.lastActiveAt = now;
      },
    );
    return claimed !== undefined;
  }

  async releaseJoinerSeat(sessionId: string, role: Role, connectionId: string): Promise<SessionRecord | undefined> {
    return this.update(
      sessionId,
      (session) => session.state === 'joined' && session[role]?.connectionId === connectionId,
      (session) => {
        session.state = 'waiting';
        delete session[role];
      },
    )?.after;
  }

  async countFailedAttempt(sessionId: string): Promise<SessionRecord | undefined> {
    return this.update(
      sessionId,
      (session) => session.state === 'waiting' || session.state === 'joined',
      (session) => {
        session.failedAttempts = (session.failedAttempts ?? 0) + 1;
      },
    )?.after;
  }

  async countEmail(sessionId: string, limit: number): Promise<boolean> {
    const counted = this.update(
      sessionId,
      (session) => session.state === 'waiting' && (session.emailsSent === undefined || session.emailsSent < limit),
      (session) => {
        session.emailsSent = (session.emailsSent ?? 0) + 1;
      },
    );
    return counted !== undefined;
  }

  async uncountEmail(sessionId: string): Promise<void> {
    this.update(
      sessionId,
      (session) => session.emailsSent !== undefined && session.emailsSent > 0,
      (session) => {
        session.emailsSent = session.emailsSent! - 1;
      },
    );
  }

  async activateSession(sessionId: string, mode: ApprovalMode, now: number, sessionExpiresAt: number): Promise<SessionRecord | undefined> {
    return this.update(
      sessionId,
      (session) => session.state === 'joined',
      (session) => {
        Object.assign(session, { state: 'active', approvedMode: mode, approvedAt: now, sessionExpiresAt, lastActiveAt: now });
      },
    )?.after;
  }

  async extendSession(sessionId: string, sessionExpiresAt: number, recordExpiresAt: number): Promise<SessionRecord | undefined> {
    return this.update(
      sessionId,
      (session) => session.state === 'active' && session.sessionExpiresAt < sessionExpiresAt,
      (session, stored) => {
        session.sessionExpiresAt = sessionExpiresAt;
        // The record's lifetime moves too: a session that still runs must not expire.
        stored.expiresAt = recordExpiresAt;
      },
    )?.after;
  }

  async attachConnection(sessionId: string, role: Role, connectionId: string, rotation: TokenRotation): Promise<SessionRecord | undefined> {
    return this.update(
      sessionId,
      (session) => {
        const seat = session[role];
        if (!seat || session.state === 'ended') return false;
        const previousGood = seat.previousTokenHash === rotation.presented && seat.previousTokenUntil !== undefined && seat.previousTokenUntil > rotation.now;
        return seat.tokenHash === rotation.presented || previousGood;
      },
      (session) => {
        const { disconnectedAt: _disconnectedAt, ...seat } = session[role]!;
        session[role] = {
          ...seat,
          connectionId,
          tokenHash: rotation.next,
          previousTokenHash: rotation.presented,
          previousTokenUntil: rotation.previousUntil,
        };
      },
    )?.before;
  }

  async detachConnection(sessionId: string, role: Role, connectionId: string, now: number): Promise<SessionRecord | undefined> {
    return this.update(
      sessionId,
      (session) => session[role]?.connectionId === connectionId,
      (session) => {
        const { connectionId: _connectionId, ...seat } = session[role]!;
        session[role] = { ...seat, disconnectedAt: now };
      },
    )?.after;
  }

  async touchSession(sessionId: string, now: number): Promise<void> {
    this.update(
      sessionId,
      (session) => session.state !== 'ended' && session.lastActiveAt < now,
      (session) => {
        session.lastActiveAt = now;
      },
    );
  }

  async endSession(sessionId: string, reason: EndReason, now: number): Promise<SessionRecord | undefined> {
    return this.update(
      sessionId,
      (session) => session.state !== 'ended',
      (session) => {
        Object.assign(session, { state: 'ended', endedReason: reason, endedAt: now });
      },
    )?.before;
  }

  async *listOpenSessions(): AsyncIterable<SessionRecord> {
    for (const sessionId of [...this.sessions.keys()]) {
      const session = this.live(this.sessions, sessionId);
      if (session && session.state !== 'ended') yield session;
    }
  }

  /** Deletes items past their `expiresAt`, as DynamoDB's TTL (late) and the local runtime's sweep do; returns how many. */
  deleteExpired(nowSeconds: number): number {
    let deleted = 0;
    for (const map of [this.connections, this.nameplates, this.sessions] as Map<string, Stored<unknown>>[]) {
      for (const [key, stored] of map) {
        if (stored.expiresAt <= nowSeconds) {
          map.delete(key);
          deleted++;
        }
      }
    }
    return deleted;
  }
}

import type { AuditEvent } from '../../core/messages.js';

/** A session's lifecycle record: what happened, when and from where; never secrets or frame contents. */
export interface AuditTrail {
  /** Appends one event; kept until `expiresAt` (the retention). Never fails the caller's action. */
  append(sessionId: string, event: AuditEvent, expiresAt: number): Promise<void>;
  /** Oldest first; empty for a session with no (or no longer any) record. */
  list(sessionId: string): Promise<AuditEvent[]>;
  /** Every retained session's log, for the operator. */
  listAll(): AsyncIterable<{ sessionId: string; events: AuditEvent[] }>;
}

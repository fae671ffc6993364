import type { AuditEvent } from '../../core/messages.js';
import type { AuditTrail } from '../ports/audit-trail.js';
import { MAX_AUDIT_EVENTS } from './dynamo-audit-trail.js';

/** Each session's events in order, kept until the retention of the newest append, as DynamoAuditTrail keeps them. */
export class MemoryAuditTrail implements AuditTrail {
  private readonly logs = new Map<string, { events: AuditEvent[]; expiresAt: number }>();

  constructor(
    /** Epoch seconds; a log past its retention is absent. */
    private readonly nowSeconds: () => number,
  ) {}

  async append(sessionId: string, event: AuditEvent, expiresAt: number): Promise<void> {
    const log = this.logs.get(sessionId) ?? { events: [], expiresAt };
    // Full: further events are dropped quietly, as the table's conditional append drops them.
    if (log.events.length >= MAX_AUDIT_EVENTS) return;
    this.logs.set(sessionId, { events: [...log.events, { ...event }], expiresAt });
  }

  async list(sessionId: string): Promise<AuditEvent[]> {
    const log = this.logs.get(sessionId);
    return log && log.expiresAt > this.nowSeconds() ? log.events.map((event) => ({ ...event })) : [];
  }

  async *listAll(): AsyncIterable<{ sessionId: string; events: AuditEvent[] }> {
    for (const sessionId of [...this.logs.keys()]) {
      const events = await this.list(sessionId);
      if (events.length > 0) yield { sessionId, events };
    }
  }
}

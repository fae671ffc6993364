import type { AuditEvent, ServerMessage } from '../../core/messages.js';
import { requireBoundConnection } from './connections.js';
import { epochSeconds, type Caller, type RelayDeps } from './deps.js';
import { RelayError } from './errors.js';

/**
 * Appends one lifecycle event to the session's audit log. The log is a record, not a gate: a failed
 * append is logged for the operator and never fails the user's action.
 */
export async function recordAudit(
  deps: RelayDeps,
  sessionId: string,
  entry: Omit<AuditEvent, 'at'>,
  caller?: Caller,
): Promise<void> {
  const now = epochSeconds(deps);
  const event: AuditEvent = { at: now, ...entry, ...(caller && { sourceIp: caller.sourceIp }) };
  try {
    await deps.audit.append(sessionId, event, now + deps.policy.auditRetentionSeconds);
  } catch (error) {
    deps.log.error('audit-append-failed', { sessionId, event: entry.event, error: (error as Error).name });
  }
}

/** The agent's view of its session's audit log. */
export async function listAudit(deps: RelayDeps, caller: Caller): Promise<ServerMessage> {
  const { sessionId, role } = await requireBoundConnection(deps, caller);
  if (role !== 'agent') throw new RelayError('wrong-role', 'only the person who asked for help can list the audit log');
  return { type: 'auditLog', sessionId, events: await deps.audit.list(sessionId) };
}

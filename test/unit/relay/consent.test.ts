// Approval, failed key confirmations (and burning), recorded events and the audit log (shared/server/use-cases/consent.ts,
// audit.ts), on the in-memory adapters.
import { describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../../shared/server/config/policy.js';
import { listAudit } from '../../../shared/server/use-cases/audit.js';
import { approveSession, recordEvent, reportFailedAttempt } from '../../../shared/server/use-cases/consent.js';
import { joinSession } from '../../../shared/server/use-cases/sessions.js';
import { MemoryRelay } from '../../support/memory-relay.js';
import { AGENT_IP, activeSession, as, joinInvitation, joinedSession, openInvitation, refusal } from './support/sessions.js';


describe('approveSession', () => {
  it('makes the session active for both, starts its lifetime now, and frees the nameplate', async () => {
    const relay = new MemoryRelay();
    const { agent, expert, created } = await joinedSession(relay);
    relay.advanceSeconds(42);
    const approved = as('sessionActive', await approveSession(relay.deps, agent, { mode: 'view' }));
    const now = relay.clock.nowSeconds();
    expect(approved).toEqual({ type: 'sessionActive', mode: 'view', expiresAt: now + defaultPolicy.sessionTtlSeconds });
    expect(relay.messagesTo(expert).at(-1)).toEqual(approved);
    expect(await relay.store.getSession(created.sessionId)).toMatchObject({ state: 'active', approvedMode: 'view', approvedAt: now });
    expect(await relay.store.findSessionIdByNameplate(created.nameplate)).toBeUndefined();
    await expect(joinSession(relay.deps, await relay.connect(), created)).rejects.toEqual(refusal('session-not-found'));
    expect((await relay.audit.list(created.sessionId)).at(-1)).toEqual({ at: now, event: 'approved', role: 'agent', detail: 'view', sourceIp: AGENT_IP });
  });

  it('is the agent’s alone, needs a joiner, and happens once: the same approval again gets the same answer', async () => {
    const relay = new MemoryRelay();
    const { creator } = await openInvitation(relay);
    await expect(approveSession(relay.deps, creator, { mode: 'control' })).rejects.toThrow('no one has joined yet');
    const { agent, expert, active } = await activeSession(relay);
    await expect(approveSession(relay.deps, expert, { mode: 'control' })).rejects.toEqual(refusal('wrong-role'));
    relay.advanceSeconds(5);
    // Its answer may have been lost with a connection: nothing is redone.
    expect(await approveSession(relay.deps, agent, { mode: 'control' })).toEqual(active);
    await expect(approveSession(relay.deps, agent, { mode: 'view' })).rejects.toThrow('the session is already approved');
  });

  it('of an approval and the joiner leaving at once, the approval loses cleanly', async () => {
    const relay = new MemoryRelay();
    const { agent, expert } = await joinedSession(relay);
    // The joiner's seat goes first, as when its $disconnect runs between the approval's read and its write.
    await relay.store.releaseJoinerSeat((await relay.store.getConnection(expert.connectionId))!.sessionId!, 'expert', expert.connectionId);
    await expect(approveSession(relay.deps, agent, { mode: 'view' })).rejects.toEqual(refusal('invalid-state'));
  });
});

describe('reportFailedAttempt', () => {
  it('counts a guess: the creator hears the verdict first, the joiner is removed and the invitation opens again', async () => {
    const relay = new MemoryRelay();
    const { agent, expert, created } = await joinedSession(relay);
    relay.notifier.clear(agent.connectionId);
    expect(await reportFailedAttempt(relay.deps, agent)).toBeUndefined();
    expect(relay.messagesTo(agent)).toEqual([
      { type: 'attemptRecorded', failedAttempts: 1, maxFailedAttempts: 3, burned: false },
      { type: 'peer', state: 'left' },
    ]);
    expect(relay.messagesTo(expert).at(-1)).toEqual({ type: 'ended', reason: 'confirmation-failed' });
    expect(relay.notifier.disconnected).toEqual([expert.connectionId]);
    expect((await relay.audit.list(created.sessionId)).map((entry) => entry.event)).toEqual(['created', 'joined', 'confirmation-failed', 'left']);
    await expect(joinInvitation(relay, created.nameplate)).resolves.toMatchObject({ joined: { role: 'expert' } });
  });

  it('burns the invitation at the policy’s limit: it ends for the creator and its nameplate is gone', async () => {
    const relay = new MemoryRelay({ policy: { maxFailedAttempts: 2 } });
    const { creator, created } = await openInvitation(relay, 'helper-code');
    for (let guess = 1; guess <= 2; guess++) {
      await joinInvitation(relay, created.nameplate, AGENT_IP);
      await reportFailedAttempt(relay.deps, creator);
    }
    const messages = relay.messagesTo(creator);
    expect(messages.filter((message) => message.type === 'attemptRecorded').at(-1)).toEqual({
      type: 'attemptRecorded',
      failedAttempts: 2,
      maxFailedAttempts: 2,
      burned: true,
    });
    expect(messages.at(-1)).toEqual({ type: 'ended', reason: 'burned' });
    expect(await relay.store.findSessionIdByNameplate(created.nameplate)).toBeUndefined();
    expect((await relay.store.getSession(created.sessionId))?.endedReason).toBe('burned');
  });

  it('is the creator’s to report, and only before approval', async () => {
    const relay = new MemoryRelay();
    const { agent, expert } = await joinedSession(relay);
    await expect(reportFailedAttempt(relay.deps, expert)).rejects.toEqual(refusal('wrong-role'));
    await approveSession(relay.deps, agent, { mode: 'view' });
    await expect(reportFailedAttempt(relay.deps, agent)).rejects.toEqual(refusal('invalid-state'));
  });
});

describe('recordEvent and listAudit', () => {
  it('the agent records decisions made in the encrypted channel once approved, and reads the log', async () => {
    const relay = new MemoryRelay();
    const { agent, expert, created } = await joinedSession(relay);
    await expect(recordEvent(relay.deps, agent, { event: 'paused' })).rejects.toEqual(refusal('invalid-state'));
    await approveSession(relay.deps, agent, { mode: 'control' });
    await expect(recordEvent(relay.deps, expert, { event: 'paused' })).rejects.toEqual(refusal('wrong-role'));
    expect(await recordEvent(relay.deps, agent, { event: 'control-revoked' })).toEqual({ type: 'eventRecorded', event: 'control-revoked' });
    const log = as('auditLog', await listAudit(relay.deps, agent));
    expect(log.sessionId).toBe(created.sessionId);
    expect(log.events.map((entry) => entry.event)).toEqual(['created', 'joined', 'approved', 'control-revoked']);
    await expect(listAudit(relay.deps, expert)).rejects.toEqual(refusal('wrong-role'));
  });

  it('an audit trail that fails never fails the action: the failure is logged for the operator', async () => {
    const errors: string[] = [];
    const relay = new MemoryRelay({ log: { info() {}, warn() {}, error: (event) => errors.push(event) } });
    relay.audit.append = () => Promise.reject(new Error('audit store down'));
    await expect(openInvitation(relay)).resolves.toMatchObject({ created: { type: 'sessionCreated' } });
    expect(errors).toEqual(['audit-append-failed']);
  });
});

// Hard and idle expiry, extension, the resume grace and the sweeper (shared/server/use-cases/time-limits.ts, sweep.ts,
// session-rules.ts) on the in-memory adapters, with a clock the tests move: nothing sleeps.
import { describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../../shared/server/config/policy.js';
import { recordEvent } from '../../../shared/server/use-cases/consent.js';
import { sweepOverdueSessions } from '../../../shared/server/use-cases/sweep.js';
import { extendSession } from '../../../shared/server/use-cases/time-limits.js';
import { joinSession } from '../../../shared/server/use-cases/sessions.js';
import { MemoryRelay } from '../../support/memory-relay.js';
import { activeSession, as, EXPERT_IP, joinedSession, openInvitation, refusal } from './support/sessions.js';

const HOUR = 3600;

describe('extendSession', () => {
  it('moves the hard limit later, tells the expert, and audits it', async () => {
    // No traffic in this test: the idle limit is out of the way.
    // A one-hour session: connections last at most two (API Gateway's limit).
    const relay = new MemoryRelay({ policy: { idleTimeoutSeconds: 24 * HOUR, sessionTtlSeconds: HOUR } });
    const { agent, expert, active, created } = await activeSession(relay);
    const approvedAt = relay.clock.nowSeconds();
    const extended = as('sessionExtended', await extendSession(relay.deps, agent, { seconds: 1800 }));
    expect(extended).toEqual({ type: 'sessionExtended', expiresAt: active.expiresAt + 1800, maxExpiresAt: approvedAt + defaultPolicy.maxSessionTtlSeconds });
    expect(relay.messagesTo(expert).at(-1)).toEqual(extended);
    expect((await relay.audit.list(created.sessionId)).at(-1)).toMatchObject({ event: 'extended', role: 'agent', detail: String(extended.expiresAt) });
    // Past the old limit the session goes on; past the new one it ends.
    relay.advanceSeconds(active.expiresAt - approvedAt);
    await expect(recordEvent(relay.deps, agent, { event: 'paused' })).resolves.toMatchObject({ type: 'eventRecorded' });
    relay.advanceSeconds(1800);
    await expect(recordEvent(relay.deps, agent, { event: 'resumed' })).rejects.toEqual(expect.objectContaining({ code: 'session-ended', endReason: 'expired' }));
  });

  it('stops at the cap counted from the approval, and says so without changing anything', async () => {
    const relay = new MemoryRelay({ policy: { sessionTtlSeconds: 2 * HOUR, maxSessionTtlSeconds: 3 * HOUR } });
    const { agent } = await activeSession(relay);
    const capped = as('sessionExtended', await extendSession(relay.deps, agent, { seconds: 5 * HOUR }));
    expect(capped.expiresAt).toBe(capped.maxExpiresAt);
    expect(await extendSession(relay.deps, agent, { seconds: 60 })).toEqual(capped);
  });

  it('is the agent’s, once approved', async () => {
    const relay = new MemoryRelay();
    const { agent, expert } = await joinedSession(relay);
    await expect(extendSession(relay.deps, agent, { seconds: 60 })).rejects.toEqual(refusal('invalid-state'));
    await expect(extendSession(relay.deps, expert, { seconds: 60 })).rejects.toEqual(refusal('wrong-role'));
  });
});

describe('expiry, checked on every action and by the sweeper', () => {
  it('an action after the hard limit ends the session for both and is refused', async () => {
    const relay = new MemoryRelay();
    const { agent, expert, active } = await activeSession(relay);
    relay.advanceSeconds(active.expiresAt - relay.clock.nowSeconds());
    await expect(recordEvent(relay.deps, agent, { event: 'paused' })).rejects.toEqual(refusal('session-ended'));
    for (const caller of [agent, expert]) expect(relay.messagesTo(caller).at(-1)).toEqual({ type: 'ended', reason: 'expired' });
  });

  it('the sweeper ends idle sessions, expired invitations and sessions whose participant never came back, and leaves the rest', async () => {
    const relay = new MemoryRelay();
    const idle = await activeSession(relay);
    const gone = await activeSession(relay);
    const waiting = await openInvitation(relay);
    expect(await sweepOverdueSessions(relay.deps)).toBe(0);
    await relay.disconnect(gone.expert);
    relay.advanceSeconds(defaultPolicy.resumeGraceSeconds);
    expect(await sweepOverdueSessions(relay.deps)).toBe(1);
    expect(relay.messagesTo(gone.agent).at(-1)).toEqual({ type: 'ended', reason: 'peer-gone' });
    relay.advanceSeconds(defaultPolicy.idleTimeoutSeconds - defaultPolicy.resumeGraceSeconds);
    expect(await sweepOverdueSessions(relay.deps)).toBe(1);
    expect(relay.messagesTo(idle.agent).at(-1)).toEqual({ type: 'ended', reason: 'idle-timeout' });
    // An open invitation is not idle: it waits out its own lifetime.
    expect(relay.messagesTo(waiting.creator)).toEqual([]);
    relay.advanceSeconds(defaultPolicy.easyConnectTtlSeconds - defaultPolicy.idleTimeoutSeconds);
    expect(await sweepOverdueSessions(relay.deps)).toBe(1);
    expect(relay.messagesTo(waiting.creator)).toEqual([{ type: 'ended', reason: 'expired' }]);
    expect(await sweepOverdueSessions(relay.deps)).toBe(0);
  });

  describe('connections gone without a $disconnect (API Gateway delivers it on a best-effort basis)', () => {
    it('a joiner gone before approval is removed by the sweeper: the creator is told, the invitation opens again', async () => {
      const relay = new MemoryRelay();
      const { agent, expert, created } = await joinedSession(relay);
      relay.notifier.gone(expert.connectionId); // no $disconnect follows
      expect(await sweepOverdueSessions(relay.deps)).toBe(0);
      expect(relay.messagesTo(agent).at(-1)).toEqual({ type: 'peer', state: 'left' });
      expect(await relay.store.getConnection(expert.connectionId)).toBeUndefined();
      const technician = await relay.connect(EXPERT_IP);
      expect(await joinSession(relay.deps, technician, { nameplate: created.nameplate })).toMatchObject({ type: 'sessionJoined' });
    });

    it('after approval a gone participant’s seat waits out the resume grace, the peer told; then the session ends', async () => {
      const relay = new MemoryRelay();
      const { agent, expert } = await activeSession(relay);
      relay.notifier.gone(expert.connectionId);
      // Recent traffic: the frames (heartbeats) of the live side would find the gone one; nothing is asked yet.
      expect(await sweepOverdueSessions(relay.deps)).toBe(0);
      expect(relay.messagesTo(agent).at(-1)).not.toEqual({ type: 'peer', state: 'disconnected' });
      relay.advanceSeconds(defaultPolicy.idleTimeoutSeconds / 4 + 61);
      expect(await sweepOverdueSessions(relay.deps)).toBe(0);
      expect(relay.messagesTo(agent).at(-1)).toEqual({ type: 'peer', state: 'disconnected' });
      relay.advanceSeconds(defaultPolicy.resumeGraceSeconds);
      expect(await sweepOverdueSessions(relay.deps)).toBe(1);
      expect(relay.messagesTo(agent).at(-1)).toEqual({ type: 'ended', reason: 'peer-gone' });
    });

    it('leaves live connections alone', async () => {
      const relay = new MemoryRelay();
      const { agent, expert } = await activeSession(relay);
      const waiting = await openInvitation(relay);
      relay.advanceSeconds(defaultPolicy.idleTimeoutSeconds / 4 + 61);
      const told = [agent, expert, waiting.creator].map((caller) => relay.messagesTo(caller).length);
      expect(await sweepOverdueSessions(relay.deps)).toBe(0);
      expect([agent, expert, waiting.creator].map((caller) => relay.messagesTo(caller).length)).toEqual(told);
      for (const caller of [agent, expert, waiting.creator]) expect(relay.notifier.isOpen(caller.connectionId)).toBe(true);
    });
  });
});

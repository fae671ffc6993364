// The invitation lifecycle's use cases (shared/server/use-cases/sessions.ts) on the in-memory adapters.
import { describe, expect, it } from 'vitest';
import { CODE_ALPHABET, NAMEPLATE_LENGTH } from '../../../shared/core/code-alphabet.js';
import { defaultPolicy } from '../../../shared/server/config/policy.js';
import { RelayError } from '../../../shared/server/use-cases/errors.js';
import { createSession, endSession, joinSession, resumeSession } from '../../../shared/server/use-cases/sessions.js';
import { countJoinPageView } from '../../../shared/server/use-cases/join-page-views.js';
import { sweepOverdueSessions } from '../../../shared/server/use-cases/sweep.js';
import { MemoryRelay } from '../../support/memory-relay.js';
import { AGENT_IP, EXPERT_IP, activeSession, as, joinInvitation, joinedSession, openInvitation, refusal } from './support/sessions.js';


describe('createSession', () => {
  it('opens an Easy Connect invitation held by the agent, with a fresh nameplate, lifetimes from the policy, and an audit entry', async () => {
    const relay = new MemoryRelay();
    const { creator, created } = await openInvitation(relay);
    const now = relay.clock.nowSeconds();
    expect(created).toMatchObject({
      role: 'agent',
      kind: 'easy-connect',
      invitationExpiresAt: now + defaultPolicy.easyConnectTtlSeconds,
      expiresAt: now + defaultPolicy.easyConnectTtlSeconds + defaultPolicy.sessionTtlSeconds,
      maxFailedAttempts: defaultPolicy.maxFailedAttempts,
      peerConnected: false,
    });
    expect(created.nameplate).toMatch(new RegExp(`^[${CODE_ALPHABET}]{${NAMEPLATE_LENGTH}}$`));
    expect(await relay.store.findSessionIdByNameplate(created.nameplate)).toBe(created.sessionId);
    expect(await relay.store.getConnection(creator.connectionId)).toMatchObject({ sessionId: created.sessionId, role: 'agent' });
    expect(await relay.audit.list(created.sessionId)).toEqual([
      { at: now, event: 'created', role: 'agent', detail: 'easy-connect', nameplate: created.nameplate, sourceIp: AGENT_IP },
    ]);
    // Only the hash of the resume token is kept.
    expect(JSON.stringify(await relay.store.getSession(created.sessionId))).not.toContain(created.resumeToken);
  });

  it('gives a helper code to the expert, and caps asked-for lifetimes at the policy', async () => {
    const relay = new MemoryRelay();
    const { created } = await openInvitation(relay, 'helper-code');
    expect(created).toMatchObject({ role: 'expert', kind: 'helper-code' });
    const caller = await relay.connect();
    const capped = as('sessionCreated', await createSession(relay.deps, caller, { kind: 'file', invitationTtlSeconds: 10 ** 9, sessionTtlSeconds: 10 ** 9 }));
    const now = relay.clock.nowSeconds();
    expect(capped.invitationExpiresAt).toBe(now + defaultPolicy.maxFileInvitationTtlSeconds);
    expect(capped.expiresAt).toBe(capped.invitationExpiresAt + defaultPolicy.maxSessionTtlSeconds);
  });

  it('refuses a connection that already holds a seat, and one the relay never registered', async () => {
    const relay = new MemoryRelay();
    const { creator } = await openInvitation(relay);
    await expect(createSession(relay.deps, creator, {})).rejects.toEqual(refusal('already-in-session'));
    await expect(createSession(relay.deps, { connectionId: 'never-connected', sourceIp: AGENT_IP }, {})).rejects.toEqual(refusal('internal'));
  });

  it('of two concurrent creations on one connection, one wins and no second invitation is left behind', async () => {
    const relay = new MemoryRelay();
    const caller = await relay.connect();
    const outcomes = await Promise.allSettled([createSession(relay.deps, caller, {}), createSession(relay.deps, caller, {})]);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    const open = [];
    for await (const session of relay.store.listOpenSessions()) open.push(session);
    expect(open).toHaveLength(1);
  });

  it('counts invitations per network address and window', async () => {
    const relay = new MemoryRelay({ policy: { invitationsPerSourceIp: 2 } });
    for (let n = 0; n < 2; n++) await createSession(relay.deps, await relay.connect('2001:db8:1:2::1'), {});
    // Another address of the same IPv6 /64 is the same network.
    const refused = createSession(relay.deps, await relay.connect('2001:db8:1:2::ff'), {});
    await expect(refused).rejects.toEqual(refusal('rate-limited'));
    await expect(refused).rejects.toThrow(/too many invitations from this network address; try again in 10 minutes/);
    await expect(createSession(relay.deps, await relay.connect('2001:db8:1:3::1'), {})).resolves.toMatchObject({ type: 'sessionCreated' });
    relay.advanceSeconds(defaultPolicy.rateWindowSeconds);
    await expect(createSession(relay.deps, await relay.connect('2001:db8:1:2::1'), {})).resolves.toMatchObject({ type: 'sessionCreated' });
  });
});

describe('joinSession', () => {
  it('seats the joiner, tells the creator, and audits the join', async () => {
    const relay = new MemoryRelay();
    const { creator, created } = await openInvitation(relay);
    const { joiner, joined } = await joinInvitation(relay, created.nameplate);
    expect(joined).toMatchObject({ sessionId: created.sessionId, role: 'expert', nameplate: created.nameplate, peerConnected: true });
    expect(relay.messagesTo(creator)).toEqual([{ type: 'peer', state: 'connected' }]);
    expect(await relay.store.getConnection(joiner.connectionId)).toMatchObject({ sessionId: created.sessionId, role: 'expert' });
    expect((await relay.audit.list(created.sessionId)).map((entry) => [entry.event, entry.role, entry.sourceIp])).toEqual([
      ['created', 'agent', AGENT_IP],
      ['joined', 'expert', EXPERT_IP],
    ]);
  });

  it('seats one joiner at a time: a second is refused, and of two at once exactly one wins', async () => {
    const relay = new MemoryRelay();
    const { created } = await openInvitation(relay);
    const [first, second] = [await relay.connect(), await relay.connect()];
    const outcomes = await Promise.allSettled([joinSession(relay.deps, first, created), joinSession(relay.deps, second, created)]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const loser = outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult;
    expect(loser.reason).toEqual(refusal('role-taken'));
    // The loser's connection is free again for another attempt.
    const loserCaller = outcomes[0]!.status === 'rejected' ? first : second;
    expect((await relay.store.getConnection(loserCaller.connectionId))?.sessionId).toBeUndefined();
    await expect(joinSession(relay.deps, await relay.connect(), created)).rejects.toEqual(refusal('role-taken'));
  });

  it('answers an unknown nameplate with session-not-found', async () => {
    const relay = new MemoryRelay();
    await expect(joinSession(relay.deps, await relay.connect(), { nameplate: 'ZZZZ' })).rejects.toEqual(refusal('session-not-found'));
  });

  it('refuses another kind of invitation before the seat, so the real joiner still gets in', async () => {
    const relay = new MemoryRelay();
    const { created } = await openInvitation(relay, 'helper-code');
    const mixedUp = joinSession(relay.deps, await relay.connect(), { nameplate: created.nameplate, expectedKind: 'easy-connect' });
    await expect(mixedUp).rejects.toEqual(expect.objectContaining({ code: 'wrong-kind', invitationKind: 'helper-code' }));
    await expect(mixedUp).rejects.toThrow('this invitation is a helper code, not an Easy Connect password');
    const { joined } = await joinInvitation(relay, created.nameplate, AGENT_IP);
    expect(joined.role).toBe('agent');
  });

  it('closes an invitation when its lifetime is over, without sleeping: joins find nothing, the sweep tells the creator', async () => {
    const relay = new MemoryRelay();
    const { creator, created } = await openInvitation(relay);
    relay.advanceSeconds(defaultPolicy.easyConnectTtlSeconds - 1);
    expect(await sweepOverdueSessions(relay.deps)).toBe(0);
    relay.advanceSeconds(1);
    // The nameplate lives as long as the invitation: the same answer as for a code that never existed.
    await expect(joinSession(relay.deps, await relay.connect(), created)).rejects.toEqual(refusal('session-not-found'));
    expect(await sweepOverdueSessions(relay.deps)).toBe(1);
    expect(relay.messagesTo(creator)).toEqual([{ type: 'ended', reason: 'expired' }]);
    expect(relay.notifier.disconnected).toContain(creator.connectionId);
  });

  it('counts joins per network address (an IPv6 /64), refusing the excess before any lookup', async () => {
    const relay = new MemoryRelay({ policy: { joinsPerSourceIp: 2 } });
    const { created } = await openInvitation(relay);
    for (const suffix of ['1', '2']) {
      await expect(joinSession(relay.deps, await relay.connect(`2001:db8:9:9::${suffix}`), { nameplate: 'ZZZZ' })).rejects.toEqual(refusal('session-not-found'));
    }
    await expect(joinSession(relay.deps, await relay.connect('2001:db8:9:9::3'), created)).rejects.toEqual(refusal('rate-limited'));
    // Not a per-invitation limit: the real technician from elsewhere still joins.
    await expect(joinSession(relay.deps, await relay.connect(EXPERT_IP), created)).resolves.toMatchObject({ type: 'sessionJoined' });
  });
});

describe('countJoinPageView', () => {
  it('counts views of the relay URL’s page with the joins from the same network', async () => {
    const relay = new MemoryRelay({ policy: { joinsPerSourceIp: 2 } });
    const { created } = await openInvitation(relay);
    expect(await countJoinPageView(relay.deps, '2001:db8:5:5::1')).toBeUndefined();
    await expect(joinSession(relay.deps, await relay.connect('2001:db8:5:5::2'), { nameplate: 'ZZZZ' })).rejects.toEqual(refusal('session-not-found'));
    expect(await countJoinPageView(relay.deps, '2001:db8:5:5::3')).toMatch(/^too many join attempts from this network address; try again in/);
    await expect(joinSession(relay.deps, await relay.connect('2001:db8:5:5::4'), created)).rejects.toEqual(refusal('rate-limited'));
  });
});

describe('a joiner whose connection drops before approval', () => {
  it('is removed and the invitation opens again for the next joiner', async () => {
    const relay = new MemoryRelay();
    const { agent, expert, created } = await joinedSession(relay);
    relay.notifier.clear(agent.connectionId);
    await relay.disconnect(expert);
    expect(relay.messagesTo(agent)).toEqual([{ type: 'peer', state: 'left' }]);
    expect((await relay.store.getSession(created.sessionId))?.state).toBe('waiting');
    await expect(joinInvitation(relay, created.nameplate)).resolves.toMatchObject({ joined: { role: 'expert' } });
  });
});

describe('resumeSession', () => {
  it('gives the seat back to a new connection with a new token, and tells the peer', async () => {
    const relay = new MemoryRelay();
    const { agent, expert, joined } = await activeSession(relay);
    relay.notifier.clear(agent.connectionId);
    await relay.disconnect(expert);
    expect(relay.messagesTo(agent)).toEqual([{ type: 'peer', state: 'disconnected' }]);
    const comeback = await relay.connect(EXPERT_IP);
    const resumed = as('sessionResumed', await resumeSession(relay.deps, comeback, joined));
    expect(resumed).toMatchObject({ sessionId: joined.sessionId, role: 'expert', peerConnected: true });
    expect(resumed.resumeToken).not.toBe(joined.resumeToken);
    expect(relay.messagesTo(agent).at(-1)).toEqual({ type: 'peer', state: 'connected' });
  });

  it('accepts the token just replaced until its successor is used, then never again', async () => {
    const relay = new MemoryRelay();
    const { expert, joined } = await activeSession(relay);
    await relay.disconnect(expert);
    const first = as('sessionResumed', await resumeSession(relay.deps, await relay.connect(), joined));
    // The reply carrying `first` may have been lost: the old token still works once more.
    const retried = as('sessionResumed', await resumeSession(relay.deps, await relay.connect(), joined));
    await resumeSession(relay.deps, await relay.connect(), { sessionId: joined.sessionId, resumeToken: retried.resumeToken });
    await expect(resumeSession(relay.deps, await relay.connect(), joined)).rejects.toEqual(refusal('invalid-resume-token'));
    await expect(resumeSession(relay.deps, await relay.connect(), { sessionId: joined.sessionId, resumeToken: first.resumeToken })).rejects.toEqual(
      refusal('invalid-resume-token'),
    );
  });

  it('closes the half-open connection it replaces, never the peer', async () => {
    const relay = new MemoryRelay();
    const { agent, expert, joined } = await activeSession(relay);
    await resumeSession(relay.deps, await relay.connect(), joined);
    expect(relay.notifier.disconnected).toEqual([expert.connectionId]);
    expect(relay.notifier.isOpen(agent.connectionId)).toBe(true);
  });

  it('answers a wrong token and an unknown session alike', async () => {
    const relay = new MemoryRelay();
    const { joined } = await activeSession(relay);
    for (const request of [{ ...joined, resumeToken: 'x'.repeat(43) }, { ...joined, sessionId: 'nope' }]) {
      await expect(resumeSession(relay.deps, await relay.connect(), request)).rejects.toEqual(refusal('invalid-resume-token'));
    }
  });

  it('after the grace period the session ends as peer-gone, and both learn it', async () => {
    const relay = new MemoryRelay();
    const { agent, expert, joined } = await activeSession(relay);
    await relay.disconnect(expert);
    relay.advanceSeconds(defaultPolicy.resumeGraceSeconds);
    await expect(resumeSession(relay.deps, await relay.connect(), joined)).rejects.toEqual(refusal('session-expired'));
    expect(relay.messagesTo(agent).at(-1)).toEqual({ type: 'ended', reason: 'peer-gone' });
    const late = resumeSession(relay.deps, await relay.connect(), joined);
    await expect(late).rejects.toEqual(expect.objectContaining({ code: 'session-ended', endReason: 'peer-gone' }));
  });

  it('repeats a removal the creator missed while away, after the reply', async () => {
    const relay = new MemoryRelay();
    const { agent, expert, created } = await joinedSession(relay);
    await relay.disconnect(agent);
    await relay.disconnect(expert);
    const comeback = await relay.connect();
    // The reply is posted; the notice is the route's answer, which API Gateway sends after the handler returns.
    expect(await resumeSession(relay.deps, comeback, created)).toEqual({ type: 'peer', state: 'left' });
    expect(relay.messagesTo(comeback).map((message) => message.type)).toEqual(['sessionResumed']);
  });
});

describe('endSession', () => {
  it('the creator withdrawing an open invitation revokes it and frees its nameplate', async () => {
    const relay = new MemoryRelay();
    const { creator, created } = await openInvitation(relay);
    await endSession(relay.deps, creator);
    expect(relay.messagesTo(creator)).toEqual([{ type: 'ended', reason: 'revoked' }]);
    expect(await relay.store.findSessionIdByNameplate(created.nameplate)).toBeUndefined();
    expect((await relay.audit.list(created.sessionId)).at(-1)).toMatchObject({ event: 'ended', detail: 'revoked', sourceIp: AGENT_IP });
  });

  it('a joiner leaving before approval only leaves: the invitation opens again', async () => {
    const relay = new MemoryRelay();
    const { agent, expert, created } = await joinedSession(relay);
    relay.notifier.clear(agent.connectionId);
    await endSession(relay.deps, expert);
    expect(relay.messagesTo(expert)).toEqual([{ type: 'ended', reason: 'ended-by-expert' }]);
    expect(relay.messagesTo(agent)).toEqual([{ type: 'peer', state: 'left' }]);
    expect((await relay.store.getSession(created.sessionId))?.state).toBe('waiting');
  });

  it('only the agent denies, and only someone waiting for approval', async () => {
    const relay = new MemoryRelay();
    const { agent, expert } = await joinedSession(relay);
    await expect(endSession(relay.deps, expert, { reason: 'denied' })).rejects.toEqual(refusal('wrong-role'));
    await endSession(relay.deps, agent, { reason: 'denied' });
    expect(relay.messagesTo(expert).at(-1)).toEqual({ type: 'ended', reason: 'denied' });
    const other = await openInvitation(relay);
    await expect(endSession(relay.deps, other.creator, { reason: 'denied' })).rejects.toEqual(refusal('invalid-state'));
  });

  it('only the agent ends for inactivity, and only an approved session: idle-timeout for both, audited', async () => {
    const relay = new MemoryRelay();
    const joined = await joinedSession(relay);
    await expect(endSession(relay.deps, joined.agent, { reason: 'idle-timeout' })).rejects.toEqual(refusal('invalid-state'));
    const { agent, expert, created } = await activeSession(relay);
    await expect(endSession(relay.deps, expert, { reason: 'idle-timeout' })).rejects.toEqual(refusal('wrong-role'));
    await endSession(relay.deps, agent, { reason: 'idle-timeout' });
    for (const caller of [agent, expert]) expect(relay.messagesTo(caller).at(-1)).toEqual({ type: 'ended', reason: 'idle-timeout' });
    expect((await relay.audit.list(created.sessionId)).at(-1)).toMatchObject({ event: 'ended', detail: 'idle-timeout', sourceIp: AGENT_IP });
  });

  it('ends an active session for both, closes both connections, and only once', async () => {
    const relay = new MemoryRelay();
    const { agent, expert } = await activeSession(relay);
    await endSession(relay.deps, expert);
    for (const caller of [agent, expert]) expect(relay.messagesTo(caller).at(-1)).toEqual({ type: 'ended', reason: 'ended-by-expert' });
    expect(relay.notifier.disconnected.sort()).toEqual([agent.connectionId, expert.connectionId].sort());
    await expect(endSession(relay.deps, agent)).rejects.toEqual(refusal('session-ended'));
  });

  it('a connection that holds no seat is told so', async () => {
    const relay = new MemoryRelay();
    await expect(endSession(relay.deps, await relay.connect())).rejects.toBeInstanceOf(RelayError);
    await expect(endSession(relay.deps, await relay.connect())).rejects.toEqual(refusal('not-in-session'));
  });
});

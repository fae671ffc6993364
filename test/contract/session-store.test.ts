// One contract for the SessionStore port, run against the in-memory store and the DynamoDB store on
// dynalite: the memory store the use-case tests rely on keeps the table's conditional-write semantics.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParticipantSeat, SessionRecord } from '../../shared/server/ports/session-store.js';
import { adapterKinds, type TableAdapters } from './adapters.js';

describe.each(adapterKinds)('SessionStore contract: $name', ({ start }) => {
  let adapters: TableAdapters;
  beforeAll(async () => {
    adapters = await start();
  });
  afterAll(() => adapters.close());

  const store = () => adapters.store;
  const now = () => adapters.clock.now;
  const id = () => randomUUID();

  /** A waiting invitation held by the agent on connection `agent-<id>`; its record lives an hour. */
  async function waitingSession(overrides: Partial<SessionRecord> = {}): Promise<SessionRecord> {
    const sessionId = id();
    const session: SessionRecord = {
      sessionId,
      nameplate: sessionId.slice(0, 4).toUpperCase(),
      kind: 'easy-connect',
      creatorRole: 'agent',
      state: 'waiting',
      createdAt: now(),
      invitationExpiresAt: now() + 1800,
      sessionExpiresAt: now() + 3000,
      sessionTtlSeconds: 1200,
      failedAttempts: 0,
      idleTimeoutSeconds: 900,
      lastActiveAt: now(),
      agent: { tokenHash: 'agent-token', connectionId: `agent-${sessionId}` },
      ...overrides,
    };
    await store().createSession(session, now() + 3600);
    return session;
  }

  const expertSeat = (connectionId: string): ParticipantSeat => ({ tokenHash: 'expert-token', connectionId });

  async function joined(): Promise<SessionRecord> {
    const session = await waitingSession();
    expect(await store().claimJoinerSeat(session.sessionId, 'expert', expertSeat(`expert-${session.sessionId}`), now())).toBe(true);
    return (await store().getSession(session.sessionId))!;
  }

  async function active(): Promise<SessionRecord> {
    const session = await joined();
    return (await store().activateSession(session.sessionId, 'control', now(), now() + 1200))!;
  }

  describe('connections', () => {
    it('are read back until they expire', async () => {
      const connectionId = id();
      await store().putConnection({ connectionId, connectedAt: now(), sourceIp: '198.51.100.1' }, now() + 10);
      expect(await store().getConnection(connectionId)).toEqual({ connectionId, connectedAt: now(), sourceIp: '198.51.100.1' });
      adapters.clock.now += 10;
      expect(await store().getConnection(connectionId)).toBeUndefined();
      expect(await store().getConnection(id())).toBeUndefined();
    });

    it('bind once, only if they exist, and unbind only from the session they are bound to', async () => {
      const connectionId = id();
      expect(await store().bindConnection(connectionId, 's1', 'agent')).toBe(false);
      await store().putConnection({ connectionId, connectedAt: now(), sourceIp: '198.51.100.1' }, now() + 60);
      const binds = await Promise.all([store().bindConnection(connectionId, 's1', 'agent'), store().bindConnection(connectionId, 's2', 'expert')]);
      expect(binds.sort()).toEqual([false, true]);
      const bound = await store().getConnection(connectionId);
      const other = bound?.sessionId === 's1' ? 's2' : 's1';
      await store().unbindConnection(connectionId, other);
      expect((await store().getConnection(connectionId))?.sessionId).toBe(bound?.sessionId);
      await store().unbindConnection(connectionId, bound!.sessionId!);
      expect(await store().getConnection(connectionId)).toEqual({ connectionId, connectedAt: now(), sourceIp: '198.51.100.1' });
      await store().unbindConnection(id(), 's1');
      await store().deleteConnection(connectionId);
      expect(await store().getConnection(connectionId)).toBeUndefined();
    });
  });

  describe('nameplates', () => {
    it('are claimed once, freed only by their session, and free again once expired', async () => {
      const nameplate = id();
      const claims = await Promise.all([store().claimNameplate(nameplate, 'a', now() + 60), store().claimNameplate(nameplate, 'b', now() + 60)]);
      expect(claims.sort()).toEqual([false, true]);
      const owner = (await store().findSessionIdByNameplate(nameplate))!;
      await store().releaseNameplate(nameplate, owner === 'a' ? 'b' : 'a');
      expect(await store().findSessionIdByNameplate(nameplate)).toBe(owner);
      await store().releaseNameplate(nameplate, owner);
      expect(await store().findSessionIdByNameplate(nameplate)).toBeUndefined();
      expect(await store().claimNameplate(nameplate, 'c', now() + 60)).toBe(true);
      adapters.clock.now += 60;
      // Expired but not yet deleted: absent to reads, and free to claim.
      expect(await store().findSessionIdByNameplate(nameplate)).toBeUndefined();
      expect(await store().claimNameplate(nameplate, 'd', now() + 60)).toBe(true);
      expect(await store().findSessionIdByNameplate(nameplate)).toBe('d');
    });
  });

  describe('sessions', () => {
    it('are created once and read back as written until the record expires', async () => {
      const session = await waitingSession();
      expect(await store().getSession(session.sessionId)).toEqual(session);
      await expect(store().createSession(session, now() + 3600)).rejects.toThrow();
      adapters.clock.now += 3600;
      expect(await store().getSession(session.sessionId)).toBeUndefined();
    });

    it('seat one joiner while waiting: of two at once exactly one', async () => {
      const session = await waitingSession();
      const claims = await Promise.all(
        ['x', 'y'].map((suffix) => store().claimJoinerSeat(session.sessionId, 'expert', expertSeat(suffix), now() + 5)),
      );
      expect(claims.sort()).toEqual([false, true]);
      expect(await store().getSession(session.sessionId)).toMatchObject({ state: 'joined', lastActiveAt: now() + 5 });
      expect(await store().claimJoinerSeat(id(), 'expert', expertSeat('z'), now())).toBe(false);
    });

    it('seat no joiner once the record has expired', async () => {
      const session = await waitingSession();
      expect(await store().claimJoinerSeat(session.sessionId, 'expert', expertSeat('x'), now() + 3600)).toBe(false);
    });

    it('release the joiner’s seat only for the connection holding it, opening the invitation again', async () => {
      const session = await joined();
      expect(await store().releaseJoinerSeat(session.sessionId, 'expert', 'someone-else')).toBeUndefined();
      const reopened = await store().releaseJoinerSeat(session.sessionId, 'expert', `expert-${session.sessionId}`);
      expect(reopened).toMatchObject({ state: 'waiting' });
      expect(reopened).not.toHaveProperty('expert');
      expect(await store().releaseJoinerSeat(session.sessionId, 'expert', `expert-${session.sessionId}`)).toBeUndefined();
    });

    it('count failed attempts while the invitation is open, not after approval', async () => {
      const session = await joined();
      expect((await store().countFailedAttempt(session.sessionId))?.failedAttempts).toBe(1);
      expect((await store().countFailedAttempt(session.sessionId))?.failedAttempts).toBe(2);
      await store().activateSession(session.sessionId, 'view', now(), now() + 60);
      expect(await store().countFailedAttempt(session.sessionId)).toBeUndefined();
      expect(await store().countFailedAttempt(id())).toBeUndefined();
    });

    it('count emails up to the limit while waiting, and give back one that was not sent', async () => {
      const session = await waitingSession();
      const counts = await Promise.all([1, 2, 3].map(() => store().countEmail(session.sessionId, 2)));
      expect(counts.filter(Boolean)).toHaveLength(2);
      await store().uncountEmail(session.sessionId);
      expect(await store().countEmail(session.sessionId, 2)).toBe(true);
      expect(await store().countEmail(session.sessionId, 2)).toBe(false);
      // Never below zero.
      const fresh = await waitingSession();
      await store().uncountEmail(fresh.sessionId);
      expect(await store().countEmail(fresh.sessionId, 1)).toBe(true);
      expect(await store().countEmail(fresh.sessionId, 1)).toBe(false);
      const taken = await joined();
      expect(await store().countEmail(taken.sessionId, 5)).toBe(false);
    });

    it('activate a joined session once, returning it as it is now', async () => {
      const session = await joined();
      const [first, second] = await Promise.all([
        store().activateSession(session.sessionId, 'control', now() + 1, now() + 100),
        store().activateSession(session.sessionId, 'view', now() + 1, now() + 100),
      ]);
      const winner = first ?? second;
      expect([first, second].filter(Boolean)).toHaveLength(1);
      expect(winner).toMatchObject({ state: 'active', approvedAt: now() + 1, sessionExpiresAt: now() + 100, lastActiveAt: now() + 1 });
      expect(await store().activateSession((await waitingSession()).sessionId, 'view', now(), now() + 1)).toBeUndefined();
    });

    it('extend an active session only later, moving the record’s own expiry with it', async () => {
      const session = await active();
      expect(await store().extendSession(session.sessionId, session.sessionExpiresAt, now() + 9000)).toBeUndefined();
      expect(await store().extendSession(session.sessionId, session.sessionExpiresAt + 60, now() + 9000)).toMatchObject({
        sessionExpiresAt: session.sessionExpiresAt + 60,
      });
      adapters.clock.now += 3600;
      expect(await store().getSession(session.sessionId)).toMatchObject({ sessionExpiresAt: session.sessionExpiresAt + 60 });
      expect(await store().extendSession((await joined()).sessionId, now() + 99_999, now() + 99_999)).toBeUndefined();
    });

    it('attach a connection by the newest token or, until its time, the one it replaced; answer the session as it was', async () => {
      const session = await active();
      const rotate = (presented: string, next: string, at = now()) =>
        store().attachConnection(session.sessionId, 'expert', `c-${next}`, { presented, next, now: at, previousUntil: at + 300 });
      await store().detachConnection(session.sessionId, 'expert', `expert-${session.sessionId}`, now());
      const before = await rotate('expert-token', 't1');
      expect(before?.expert).toMatchObject({ tokenHash: 'expert-token', disconnectedAt: now() });
      expect((await store().getSession(session.sessionId))?.expert).toEqual({
        tokenHash: 't1',
        connectionId: 'c-t1',
        previousTokenHash: 'expert-token',
        previousTokenUntil: now() + 300,
      });
      expect(await rotate('wrong', 't2')).toBeUndefined();
      // The replaced token once more, within its time: its reply may have been lost.
      expect(await rotate('expert-token', 't2')).toBeDefined();
      expect(await rotate('expert-token', 't3', now() + 300)).toBeUndefined();
      // Once its successor is used, a replaced token is refused even within its time.
      expect(await rotate('t2', 't4')).toBeDefined();
      expect(await rotate('expert-token', 't5')).toBeUndefined();
      await store().endSession(session.sessionId, 'expired', now());
      const newest = (await store().getSession(session.sessionId))!.expert!.tokenHash;
      expect(await rotate(newest, 't6')).toBeUndefined();
      expect(await store().attachConnection(id(), 'expert', 'c', { presented: 'a', next: 'b', now: now(), previousUntil: now() })).toBeUndefined();
    });

    it('detach a connection only from the seat it holds', async () => {
      const session = await active();
      expect(await store().detachConnection(session.sessionId, 'expert', 'someone-else', now())).toBeUndefined();
      const detached = await store().detachConnection(session.sessionId, 'expert', `expert-${session.sessionId}`, now() + 3);
      expect(detached?.expert).toEqual({ tokenHash: 'expert-token', disconnectedAt: now() + 3 });
      expect(detached?.agent?.connectionId).toBe(`agent-${session.sessionId}`);
    });

    it('record traffic only forward in time, never on an ended or missing session', async () => {
      const session = await active();
      await store().touchSession(session.sessionId, now() + 10);
      await store().touchSession(session.sessionId, now() + 5);
      expect((await store().getSession(session.sessionId))?.lastActiveAt).toBe(now() + 10);
      await store().endSession(session.sessionId, 'ended-by-agent', now());
      await store().touchSession(session.sessionId, now() + 20);
      expect((await store().getSession(session.sessionId))?.lastActiveAt).toBe(now() + 10);
      const missing = id();
      await store().touchSession(missing, now());
      expect(await store().getSession(missing)).toBeUndefined();
    });

    it('end once: of two at once one gets the session as it was, and it leaves the open list', async () => {
      const session = await joined();
      const ends = await Promise.all([store().endSession(session.sessionId, 'expired', now()), store().endSession(session.sessionId, 'denied', now())]);
      const [winner] = ends.filter(Boolean);
      expect(ends.filter(Boolean)).toHaveLength(1);
      expect(winner).toMatchObject({ state: 'joined' });
      expect(await store().getSession(session.sessionId)).toMatchObject({ state: 'ended', endedReason: expect.stringMatching(/^(expired|denied)$/) });
      const open: string[] = [];
      for await (const listed of store().listOpenSessions()) open.push(listed.sessionId);
      expect(open).not.toContain(session.sessionId);
    });

    it('list open sessions: not the ended ones, not the expired ones', async () => {
      const live = await waitingSession();
      const ended = await waitingSession();
      await store().endSession(ended.sessionId, 'revoked', now());
      const open: SessionRecord[] = [];
      for await (const listed of store().listOpenSessions()) open.push(listed);
      expect(open.map((listed) => listed.sessionId)).toContain(live.sessionId);
      expect(open.find((listed) => listed.sessionId === live.sessionId)).toEqual(live);
      expect(open.map((listed) => listed.sessionId)).not.toContain(ended.sessionId);
      adapters.clock.now += 3600;
      const later: string[] = [];
      for await (const listed of store().listOpenSessions()) later.push(listed.sessionId);
      expect(later).not.toContain(live.sessionId);
    });

    it('an expired record TTL has not deleted yet is absent to reads, yet still there for conditional writes', async () => {
      const session = await waitingSession();
      adapters.clock.now += 3600;
      expect(await store().getSession(session.sessionId)).toBeUndefined();
      // As on DynamoDB: only writes whose condition looks at the expiry (claimJoinerSeat) see it.
      expect(await store().endSession(session.sessionId, 'expired', now())).toMatchObject({ sessionId: session.sessionId, state: 'waiting' });
    });
  });
});

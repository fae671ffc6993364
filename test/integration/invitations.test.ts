// The invitation lifecycle at the relay, over real WebSockets against the local runtime: kinds and
// lifetimes, consent (approval lifts the pre-approval frame limit), failed confirmations and burning,
// leaving, denying, revoking, expiry, rate limits, the audit log, email and the relay URL page.
// The clients' side (handshake, consent messages inside the encrypted channel) is tested with the SDK.
import { describe, expect, it } from 'vitest';
import { MAX_PRE_APPROVAL_FRAME_DATA_CHARS, type InvitationKind, type ServerMessage } from '../../shared/core/messages.js';
import { readOutboxMessage } from '../../infra/local/mail-outbox.js';
import { newFileSecret } from '../../shared/core/codes.js';
import { createInvitationFile } from '../../shared/core/invitation-file.js';
import { useLocalRuntime } from '../support/runtime.js';
import { frameOf, TestSocket } from '../support/ws-client.js';

// Many joins and page views from one address: the rate limits have their own runtime below.
// Lifetimes are whole seconds of the handlers' clock: expiry tests move it ahead instead of waiting.
let clockAhead = 0;
const runtime = useLocalRuntime({ policy: { joinsPerSourceIp: 10_000 }, clock: () => Date.now() + clockAhead });
const passSeconds = (seconds: number) => (clockAhead += seconds * 1000);

type Created = Extract<ServerMessage, { type: 'sessionCreated' }>;
type Joined = Extract<ServerMessage, { type: 'sessionJoined' }>;

const bigFrame = { action: 'frame', data: 'A'.repeat(MAX_PRE_APPROVAL_FRAME_DATA_CHARS + 4) };

async function invite(options: { kind?: InvitationKind; invitationTtlSeconds?: number; sessionTtlSeconds?: number } = {}) {
  const creator = await TestSocket.open(runtime().wsUrl);
  const created = (await creator.request({ action: 'createSession', ...options })) as Created;
  expect(created.type).toBe('sessionCreated');
  return { creator, created };
}

async function join(nameplate: string) {
  const joiner = await TestSocket.open(runtime().wsUrl);
  const joined = await joiner.request({ action: 'joinSession', nameplate });
  return { joiner, joined };
}

/** An agent's invitation with an expert joined (not yet approved). */
async function joinedPair(kind: InvitationKind = 'easy-connect') {
  const { creator: agent, created } = await invite({ kind });
  const { joiner: expert, joined } = await join(created.nameplate);
  expect(joined.type).toBe('sessionJoined');
  expect(await agent.next()).toEqual({ type: 'peer', state: 'connected' });
  return { agent, expert, created, joined: joined as Joined };
}

/** The handlers' clock, in epoch seconds. */
const nowSeconds = () => Math.floor((Date.now() + clockAhead) / 1000);

describe('invitation kinds and lifetimes', () => {
  it.each([
    ['easy-connect', 'agent', 30 * 60],
    ['file', 'agent', 6 * 60 * 60],
    ['helper-code', 'expert', 10 * 60],
  ] as const)('a %s invitation is created by the %s and lasts its default lifetime', async (kind, role, ttl) => {
    const { creator, created } = await invite({ kind });
    expect(created).toMatchObject({ kind, role, maxFailedAttempts: 3, peerConnected: false });
    expect(created.nameplate).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(Math.abs(created.invitationExpiresAt - (nowSeconds() + ttl))).toBeLessThanOrEqual(2);
    creator.close();
  });

  it('caps a requested lifetime at the policy maximum', async () => {
    const { creator, created } = await invite({ kind: 'file', invitationTtlSeconds: 10 * 24 * 60 * 60 });
    expect(Math.abs(created.invitationExpiresAt - (nowSeconds() + 24 * 60 * 60))).toBeLessThanOrEqual(2);
    creator.close();
  });

  it('a helper code is joined by the agent, who then approves', async () => {
    const { creator: expert, created } = await invite({ kind: 'helper-code' });
    const { joiner: agent, joined } = await join(created.nameplate.toLowerCase());
    expect(joined).toMatchObject({ type: 'sessionJoined', role: 'agent', kind: 'helper-code' });
    expect(await expert.next()).toEqual({ type: 'peer', state: 'connected' });
    expect(await expert.request({ action: 'approveSession', mode: 'view' })).toMatchObject({ code: 'wrong-role' });
    const active = await agent.request({ action: 'approveSession', mode: 'view' });
    expect(active).toMatchObject({ type: 'sessionActive', mode: 'view' });
    expect(await expert.next()).toEqual(active);
    expert.close();
    agent.close();
  });
});

describe('consent', () => {
  it('before approval only small frames pass, both ways; approval lifts the limit and restarts the hard expiry', async () => {
    const { agent, expert, created } = await joinedPair();
    expect(await agent.request(bigFrame)).toMatchObject({ type: 'error', code: 'not-approved' });
    expect(await expert.request(bigFrame)).toMatchObject({ type: 'error', code: 'not-approved' });
    agent.send(frameOf('handshake-sized'));
    expect(await expert.next()).toMatchObject({ type: 'frame' });

    const active = (await agent.request({ action: 'approveSession', mode: 'control' })) as Extract<ServerMessage, { type: 'sessionActive' }>;
    expect(active).toMatchObject({ type: 'sessionActive', mode: 'control' });
    expect(Math.abs(active.expiresAt - (nowSeconds() + 2 * 60 * 60))).toBeLessThanOrEqual(2);
    expect(active.expiresAt).toBeLessThan(created.expiresAt);
    expect(await expert.next()).toEqual(active);
    agent.send(bigFrame);
    expect(await expert.next()).toEqual({ type: 'frame', data: bigFrame.data });
    expect(await agent.request({ action: 'approveSession', mode: 'view' })).toMatchObject({ code: 'invalid-state' });
    agent.close();
    expert.close();
  });

  it('approving with nobody joined is refused', async () => {
    const { creator, created } = await invite();
    expect(created.type).toBe('sessionCreated');
    expect(await creator.request({ action: 'approveSession', mode: 'view' })).toMatchObject({ code: 'invalid-state' });
    creator.close();
  });

  it('a second expert is refused while one is joined', async () => {
    const { agent, expert, created } = await joinedPair();
    const { joiner: second, joined } = await join(created.nameplate);
    expect(joined).toMatchObject({ type: 'error', code: 'role-taken' });
    [agent, expert, second].forEach((socket) => socket.close());
  });

  it('the agent denying ends the session for both with "denied"; the expert cannot deny', async () => {
    const { agent, expert } = await joinedPair();
    expect(await expert.request({ action: 'endSession', reason: 'denied' })).toMatchObject({ code: 'wrong-role' });
    agent.send({ action: 'endSession', reason: 'denied' });
    expect(await agent.next()).toEqual({ type: 'ended', reason: 'denied' });
    expect(await expert.next()).toEqual({ type: 'ended', reason: 'denied' });
  });

  it('the agent ends an approved session for inactivity with "idle-timeout"; not before approval, and the expert cannot', async () => {
    const { agent, expert } = await joinedPair();
    expect(await agent.request({ action: 'endSession', reason: 'idle-timeout' })).toMatchObject({ code: 'invalid-state' });
    const active = await agent.request({ action: 'approveSession', mode: 'view' });
    expect(await expert.next()).toEqual(active);
    expect(await expert.request({ action: 'endSession', reason: 'idle-timeout' })).toMatchObject({ code: 'wrong-role' });
    agent.send({ action: 'endSession', reason: 'idle-timeout' });
    expect(await agent.next()).toEqual({ type: 'ended', reason: 'idle-timeout' });
    expect(await expert.next()).toEqual({ type: 'ended', reason: 'idle-timeout' });
  });

  it('either side ends an approved session with "protocol-violation": both are told why; a joiner before approval only leaves', async () => {
    const { agent, expert, created } = await joinedPair();
    expert.send({ action: 'endSession', reason: 'protocol-violation' });
    expect(await expert.next()).toEqual({ type: 'ended', reason: 'ended-by-expert' });
    expect(await agent.next()).toEqual({ type: 'peer', state: 'left' });
    const { joiner: next } = await join(created.nameplate);
    expect(await agent.next()).toEqual({ type: 'peer', state: 'connected' });
    const active = await agent.request({ action: 'approveSession', mode: 'view' });
    expect(await next.next()).toEqual(active);
    next.send({ action: 'endSession', reason: 'protocol-violation' });
    expect(await next.next()).toEqual({ type: 'ended', reason: 'protocol-violation' });
    expect(await agent.next()).toEqual({ type: 'ended', reason: 'protocol-violation' });
  });

  it('an expert leaving before approval reopens the invitation for another', async () => {
    const { agent, expert, created } = await joinedPair();
    expert.send({ action: 'endSession' });
    expect(await expert.next()).toEqual({ type: 'ended', reason: 'ended-by-expert' });
    expect(await agent.next()).toEqual({ type: 'peer', state: 'left' });
    const { joiner: next, joined } = await join(created.nameplate);
    expect(joined).toMatchObject({ type: 'sessionJoined', role: 'expert' });
    expect(await agent.next()).toEqual({ type: 'peer', state: 'connected' });
    agent.close();
    next.close();
  });

  it('after approval, the expert leaving ends the session for both', async () => {
    const { agent, expert } = await joinedPair();
    await agent.request({ action: 'approveSession', mode: 'view' });
    await expert.next();
    expert.send({ action: 'endSession' });
    expect(await agent.next()).toEqual({ type: 'ended', reason: 'ended-by-expert' });
    expect(await expert.next()).toEqual({ type: 'ended', reason: 'ended-by-expert' });
  });
});

describe('failed key confirmations', () => {
  it('each one removes the joiner and reopens; the third burns the invitation for both', async () => {
    const { creator: agent, created } = await invite();
    for (const attempt of [1, 2]) {
      const { joiner: guesser } = await join(created.nameplate);
      expect(await agent.next()).toEqual({ type: 'peer', state: 'connected' });
      expect(await guesser.request({ action: 'reportFailedAttempt' })).toMatchObject({ code: 'wrong-role' });
      expect(await agent.request({ action: 'reportFailedAttempt' })).toEqual({
        type: 'attemptRecorded',
        failedAttempts: attempt,
        maxFailedAttempts: 3,
        burned: false,
      });
      expect(await guesser.next()).toEqual({ type: 'ended', reason: 'confirmation-failed' });
      await guesser.closed;
      expect(await agent.next()).toEqual({ type: 'peer', state: 'left' });
    }
    const { joiner: last } = await join(created.nameplate);
    await agent.next();
    expect(await agent.request({ action: 'reportFailedAttempt' })).toEqual({
      type: 'attemptRecorded',
      failedAttempts: 3,
      maxFailedAttempts: 3,
      burned: true,
    });
    expect(await agent.next()).toEqual({ type: 'ended', reason: 'burned' });
    expect(await last.next()).toEqual({ type: 'ended', reason: 'burned' });
    const { joined } = await join(created.nameplate);
    expect(joined).toMatchObject({ code: 'session-not-found' });
  });

  it('a creator who was away when its joiner was removed is told again on resume, after the reply', async () => {
    const { agent, expert, created } = await joinedPair();
    agent.socket.terminate();
    expect(await expert.next()).toEqual({ type: 'peer', state: 'disconnected' });
    expert.send({ action: 'endSession' });
    expect(await expert.next()).toEqual({ type: 'ended', reason: 'ended-by-expert' });
    const back = await TestSocket.open(runtime().wsUrl);
    expect(await back.request({ action: 'resumeSession', sessionId: created.sessionId, resumeToken: created.resumeToken })).toMatchObject({
      type: 'sessionResumed',
      peerConnected: false,
    });
    expect(await back.next()).toEqual({ type: 'peer', state: 'left' });
    back.close();
  });

  it('a failure reported after the joiner already left is still counted', async () => {
    const { agent, expert } = await joinedPair();
    expert.send({ action: 'endSession' });
    expect(await agent.next()).toEqual({ type: 'peer', state: 'left' });
    expect(await agent.request({ action: 'reportFailedAttempt' })).toMatchObject({ failedAttempts: 1, burned: false });
    agent.close();
  });
});

describe('revoking and expiry', () => {
  it('the creator ending an open invitation revokes it: nobody can join, and a late resume learns why', async () => {
    const { creator, created } = await invite();
    creator.send({ action: 'endSession' });
    expect(await creator.next()).toEqual({ type: 'ended', reason: 'revoked' });
    const { joined } = await join(created.nameplate);
    expect(joined).toMatchObject({ code: 'session-not-found' });
    const late = await TestSocket.open(runtime().wsUrl);
    expect(await late.request({ action: 'resumeSession', sessionId: created.sessionId, resumeToken: created.resumeToken })).toMatchObject({
      code: 'session-ended',
      endReason: 'revoked',
    });
    late.close();
  });

  it('an expired invitation cannot be joined, even before the sweeper or TTL remove it', async () => {
    const { creator, created } = await invite({ invitationTtlSeconds: 1 });
    passSeconds(2);
    const { joined } = await join(created.nameplate);
    expect(joined).toMatchObject({ code: expect.stringMatching(/session-expired|session-not-found/) });
    // Any action of the creator's checks the deadline itself and ends the invitation, telling it why.
    creator.send({ action: 'approveSession', mode: 'view' });
    expect(await creator.next()).toEqual({ type: 'ended', reason: 'expired' });
  });

  it('a creator cancelling an invitation already past its lifetime is told "expired", not "revoked"', async () => {
    const { creator } = await invite({ invitationTtlSeconds: 1 });
    passSeconds(2);
    creator.send({ action: 'endSession' });
    expect(await creator.next()).toEqual({ type: 'ended', reason: 'expired' });
  });

  it('the sweeper ends an invitation nobody joined in time and tells its creator', async () => {
    const { creator } = await invite({ kind: 'helper-code', invitationTtlSeconds: 1 });
    passSeconds(2);
    await runtime().sweep();
    expect(await creator.next()).toEqual({ type: 'ended', reason: 'expired' });
  });

  it('a session past its approved lifetime ends for both with "expired"', async () => {
    const { creator: agent, created } = await invite({ sessionTtlSeconds: 1 });
    const { joiner: expert } = await join(created.nameplate);
    await agent.next();
    await agent.request({ action: 'approveSession', mode: 'view' });
    await expert.next();
    passSeconds(2);
    agent.send(frameOf('too late'));
    expect(await agent.next()).toEqual({ type: 'ended', reason: 'expired' });
    expect(await expert.next()).toEqual({ type: 'ended', reason: 'expired' });
  });
});

describe('audit log', () => {
  it('records the lifecycle with time and source address, lists it to the agent only, and holds no secrets', async () => {
    const { agent, expert, created, joined } = await joinedPair();
    expect(await agent.request({ action: 'recordEvent', event: 'paused' })).toMatchObject({ code: 'invalid-state' });
    await agent.request({ action: 'approveSession', mode: 'view' });
    await expert.next();
    for (const event of ['control-granted', 'paused', 'resumed', 'control-revoked']) {
      expect(await agent.request({ action: 'recordEvent', event })).toEqual({ type: 'eventRecorded', event });
    }
    expect(await expert.request({ action: 'recordEvent', event: 'paused' })).toMatchObject({ code: 'wrong-role' });
    expect(await expert.request({ action: 'listAudit' })).toMatchObject({ code: 'wrong-role' });
    const log = (await agent.request({ action: 'listAudit' })) as Extract<ServerMessage, { type: 'auditLog' }>;
    expect(log.sessionId).toBe(created.sessionId);
    expect(log.events.map((entry) => [entry.event, entry.role, entry.detail])).toEqual([
      ['created', 'agent', 'easy-connect'],
      ['joined', 'expert', undefined],
      ['approved', 'agent', 'view'],
      ['control-granted', 'agent', undefined],
      ['paused', 'agent', undefined],
      ['resumed', 'agent', undefined],
      ['control-revoked', 'agent', undefined],
    ]);
    for (const entry of log.events) {
      expect(entry.sourceIp).toMatch(/127\.0\.0\.1/);
      expect(Math.abs(entry.at - nowSeconds())).toBeLessThanOrEqual(5);
    }
    const text = JSON.stringify(log);
    expect(text).not.toContain(created.resumeToken);
    expect(text).not.toContain(joined.resumeToken);
    agent.close();
    expert.close();
  });
});

describe('the relay URL page and discovery', () => {
  it('/relay.json names the WebSocket URL', async () => {
    const response = await fetch(`${runtime().httpUrl}/relay.json`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ version: 1, webSocketUrl: runtime().wsUrl, httpUrl: runtime().httpUrl });
  });

  it('/join/<nameplate> is one page for open, ended and never-issued nameplates, saying how to join', async () => {
    const { creator, created } = await invite({ kind: 'file' });
    const open = await fetch(`${runtime().httpUrl}/join/${created.nameplate}`);
    expect(open.status).toBe(200);
    expect(open.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = await open.text();
    expect(page).toContain('assist join');
    expect(page).not.toContain(created.nameplate);

    creator.send({ action: 'endSession' });
    await creator.next();
    for (const nameplate of [created.nameplate, 'ZZZZ', 'not-a-nameplate']) {
      const other = await fetch(`${runtime().httpUrl}/join/${nameplate}`);
      expect(other.status).toBe(200);
      expect(await other.text()).toBe(page);
    }
  });
});

describe('email', () => {
  const invitationFor = (created: Created, secret = newFileSecret()) =>
    createInvitationFile({
      relay: { webSocketUrl: runtime().wsUrl, httpUrl: runtime().httpUrl },
      nameplate: created.nameplate,
      secret,
      requester: 'Ada Lovelace',
      createdAt: new Date(),
      expiresAt: new Date(created.invitationExpiresAt * 1000),
    });

  it('sends the relay URL and the file, never a password, to the local outbox; at most three times', async () => {
    const { creator, created } = await invite({ kind: 'file' });
    const secret = newFileSecret();
    const invitation = invitationFor(created, secret);
    const request = { action: 'emailInvitation', to: 'tech@example.org', requesterName: 'Ada Lovelace', invitation };
    expect(await creator.request(request)).toEqual({ type: 'invitationEmailed', to: 'tech@example.org' });

    const [entry] = await runtime().outbox.messages();
    expect(entry).toMatchObject({ to: 'tech@example.org', subject: expect.stringContaining('Ada Lovelace') });
    const message = await readOutboxMessage(runtime().outbox.dir, entry!.file);
    const relayUrl = `${runtime().httpUrl}/join/${created.nameplate}#${secret}`;
    expect(message.text).toContain(relayUrl);
    expect(message.html).toContain(relayUrl);
    expect(message.text).toMatch(/password/i);
    expect(message.attachments).toHaveLength(1);
    expect(new TextDecoder().decode(message.attachments[0]!.content)).toBe(invitation);
    const listing = await (await fetch(`${runtime().httpUrl}/outbox`)).text();
    expect(listing).toContain('tech@example.org');

    expect(await creator.request(request)).toMatchObject({ type: 'invitationEmailed' });
    expect(await creator.request(request)).toMatchObject({ type: 'invitationEmailed' });
    expect(await creator.request(request)).toMatchObject({ code: 'rate-limited' });
    expect(await creator.request({ action: 'listAudit' })).toMatchObject({
      events: [{ event: 'created' }, { event: 'emailed' }, { event: 'emailed' }, { event: 'emailed' }],
    });
    creator.close();
  });

  it('refuses bad addresses, foreign or broken files, and invitations that are not files', async () => {
    const { creator, created } = await invite({ kind: 'file' });
    const invitation = invitationFor(created);
    const send = (fields: Record<string, string>) =>
      creator.request({ action: 'emailInvitation', to: 'tech@example.org', requesterName: 'Ada', invitation, ...fields });
    expect(await send({ to: 'not an address' })).toMatchObject({ code: 'invalid-request' });
    expect(await send({ to: 'tech@example.org\r\nBcc: everyone@example.org' })).toMatchObject({ code: 'invalid-request' });
    expect(await send({ invitation: '{"format":"something-else"}' })).toMatchObject({ code: 'invalid-request', message: expect.stringContaining('invitation file') });
    const other = invitationFor({ ...created, nameplate: created.nameplate === '0000' ? '1111' : '0000' });
    expect(await send({ invitation: other })).toMatchObject({ code: 'invalid-request', message: expect.stringContaining('another invitation') });
    expect(await send({ requesterName: 'bell\u0007' })).toMatchObject({ code: 'invalid-request' });

    const { creator: easy } = await invite({ kind: 'easy-connect' });
    expect(await easy.request({ action: 'emailInvitation', to: 'tech@example.org', requesterName: 'Ada', invitation })).toMatchObject({
      code: 'wrong-role',
    });
    creator.close();
    easy.close();
  });
});

describe('rate limits', () => {
  const limited = useLocalRuntime({ policy: { joinsPerSourceIp: 3, invitationsPerSourceIp: 2 } });

  it('refuses joins beyond the per-address limit, whichever invitation they are for, and invitations beyond the per-address limit', async () => {
    const creator = await TestSocket.open(limited().wsUrl);
    const created = (await creator.request({ action: 'createSession' })) as Created;
    const holder = await TestSocket.open(limited().wsUrl);
    const attempt = async (nameplate: string) => {
      const socket = await TestSocket.open(limited().wsUrl);
      const reply = await socket.request({ action: 'joinSession', nameplate });
      socket.close();
      return reply;
    };
    expect(await holder.request({ action: 'joinSession', nameplate: created.nameplate })).toMatchObject({ type: 'sessionJoined' });
    expect(await attempt(created.nameplate)).toMatchObject({ code: 'role-taken' });
    expect(await attempt('0000')).toMatchObject({ code: 'session-not-found' });
    expect(await attempt('0000')).toMatchObject({ code: 'rate-limited', message: expect.stringContaining('network address') });
    expect(await attempt(created.nameplate)).toMatchObject({ code: 'rate-limited', message: expect.stringContaining('network address') });
    holder.close();

    const another = await TestSocket.open(limited().wsUrl);
    expect(await another.request({ action: 'createSession' })).toMatchObject({ type: 'sessionCreated' });
    const third = await TestSocket.open(limited().wsUrl);
    expect(await third.request({ action: 'createSession' })).toMatchObject({ code: 'rate-limited' });
    [creator, another, third].forEach((socket) => socket.close());
  });
});

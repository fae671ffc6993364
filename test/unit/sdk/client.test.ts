// RelayClient against the in-process relay (the real handlers on memory adapters) over real WebSockets. Nothing here asserts timing:
// tests wait for outcomes (with a generous bound so a hang fails with a message).
import { describe, expect, expectTypeOf, it } from 'vitest';
import type WebSocket from 'ws';
import { createFrameCipher, TRAFFIC_SECRET_BYTES } from '../../../shared/crypto/frame-cipher.js';
import { FRAME_FORMAT_AES_256_GCM } from '../../../shared/crypto/frame-codec.js';
import { encodeBase64 } from '../../../shared/core/base64.js';
import { createPlainCodec, PLAIN_FRAME_FORMAT } from '../../../sdk/codec.js';
import { createRelayClient, RelayError, type RelayClient, type RelayClientOptions, type SessionEnd, type WebSocketConstructor } from '../../../sdk/node.js';
import { fastClientOptions, nextEvent, useCleanups, Watch } from '../../support/harness.js';
import { InProcessRelay, type InProcessRelayOptions } from '../../support/in-process-relay.js';
import { ManualClock } from './support/manual-clock.js';
import { fingerprint, patternedMessage, seededRandom } from './support/random.js';

const defer = useCleanups();

async function startRelay(options?: InProcessRelayOptions): Promise<InProcessRelay> {
  const relay = await InProcessRelay.start(options);
  defer(() => relay.stop());
  return relay;
}

function client(relay: InProcessRelay, options: Partial<RelayClientOptions> = {}): RelayClient {
  const created = createRelayClient({ url: relay.url, ...fastClientOptions, ...options });
  defer(() => created.close());
  return created;
}

/** Records what `target` emits; `watch` (shared by the clients of a test) wakes the test's waits on each event. */
function collect(target: RelayClient, watch = new Watch()) {
  const seen = { messages: [] as Uint8Array[], ended: undefined as SessionEnd | undefined, errors: [] as Error[], events: [] as string[] };
  const noting = <Args extends unknown[]>(note: (...args: Args) => unknown) => (...args: Args) => {
    note(...args);
    watch.changed();
  };
  target.on('message', noting((message) => seen.messages.push(message)));
  target.on('ended', noting((end) => (seen.ended = end)));
  target.on('error', noting((error) => seen.errors.push(error)));
  target.on('peer', noting((state) => seen.events.push(`peer ${state}`)));
  target.on('reconnecting', noting(({ attempt }) => seen.events.push(`reconnecting ${attempt}`)));
  target.on('reconnected', noting(() => seen.events.push('reconnected')));
  target.on('active', noting(() => {}));
  return seen;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function connectedPair(relay: InProcessRelay, options: Partial<RelayClientOptions> = {}) {
  const agent = client(relay, options);
  const expert = client(relay, options);
  const watch = new Watch();
  const agentSeen = collect(agent, watch);
  const expertSeen = collect(expert, watch);
  const created = await agent.createSession({ sessionTtlSeconds: 600 });
  const joined = await expert.joinSession(created.nameplate);
  // Approved, so the relay lifts its pre-approval limits on frames.
  await agent.approveSession('control');
  return { agent, expert, agentSeen, expertSeen, created, joined, until: watch.until.bind(watch) };
}

describe('RelayClient', () => {
  it('creates and joins a session, exchanges messages both ways, and ends in order', async () => {
    const relay = await startRelay();
    const { agent, expert, agentSeen, expertSeen, created, joined, until } = await connectedPair(relay);

    expect(relay.requests[0]).toEqual({ action: 'createSession', sessionTtlSeconds: 600 });
    expect(created).toMatchObject({ role: 'agent', peerConnected: false, nameplate: expect.any(String) });
    expect(joined).toMatchObject({ role: 'expert', peerConnected: true, sessionId: created.sessionId });
    await until(() => agentSeen.events.includes('peer connected'), 'the agent to see the expert');

    await agent.sendText('hello expert');
    await expert.sendText('hello agent');
    await until(() => expertSeen.messages.length === 1 && agentSeen.messages.length === 1, 'both messages');
    expect(text(expertSeen.messages[0]!)).toBe('hello expert');
    expect(text(agentSeen.messages[0]!)).toBe('hello agent');

    await agent.sendText('last words');
    const agentEnd = await agent.end();
    expect(agentEnd).toEqual({ reason: 'ended-by-agent', peerClosed: false, delivered: true });
    await until(() => expertSeen.ended !== undefined, "the expert's end");
    expect(expertSeen.ended).toEqual({ reason: 'ended-by-agent', peerClosed: true, delivered: false });
    expect(text(expertSeen.messages.at(-1)!)).toBe('last words');
    await expect(agent.sendText('too late')).rejects.toThrow();
  });

  it('loses, duplicates and reorders nothing end to end while frames are dropped and connections cut at random', async () => {
    const relay = await startRelay({ dropRate: 0.05, maxDelayMs: 4, seed: 7 });
    const { agent, expert, agentSeen, expertSeen, until } = await connectedPair(relay);
    const random = seededRandom(99);
    let cuts = 0;
    relay.onFrame = () => {
      if (cuts < 8 && random() < 0.03) {
        cuts++;
        // Cut from a fresh task: the relay is still handling this frame.
        const role = random() < 0.5 ? 'agent' : 'expert';
        setImmediate(() => relay.dropConnection(role));
      }
    };
    const sizes = Array.from({ length: 40 }, () => Math.floor(random() ** 3 * 120_000));
    const outgoing = (tag: number) => sizes.map((size, index) => patternedMessage(size, tag * 1000 + index));

    await Promise.all([
      (async () => {
        for (const message of outgoing(1)) await agent.send(message);
      })(),
      (async () => {
        for (const message of outgoing(2)) await expert.send(message);
      })(),
    ]);
    await until(() => expertSeen.messages.length >= sizes.length && agentSeen.messages.length >= sizes.length, 'every message');

    expect(expertSeen.messages.map(fingerprint)).toEqual(outgoing(1).map(fingerprint));
    expect(agentSeen.messages.map(fingerprint)).toEqual(outgoing(2).map(fingerprint));
    expect(agent.stats.reconnects + expert.stats.reconnects).toBeGreaterThan(0);
    expect([...agentSeen.events, ...expertSeen.events]).toContain('reconnected');
    expect(agentSeen.ended ?? expertSeen.ended).toBeUndefined();
  });

  it('sends nothing while the peer is away and delivers everything once it is back', async () => {
    const relay = await startRelay();
    const { agent, agentSeen, expertSeen, until } = await connectedPair(relay);
    await until(() => agentSeen.events.includes('peer connected'), 'the agent to see the expert');

    relay.refuseConnections = true;
    relay.dropConnection('expert');
    await until(() => agentSeen.events.includes('peer disconnected'), 'the agent to see the expert leave');
    const framesBefore = relay.framesFrom.agent;
    for (const word of ['one', 'two', 'three']) await agent.sendText(word);
    await until(() => expertSeen.events.filter((event) => event.startsWith('reconnecting')).length >= 3, 'a few refused attempts');
    expect(relay.framesFrom.agent).toBe(framesBefore);

    relay.refuseConnections = false;
    await until(() => expertSeen.messages.length === 3, 'the messages sent while the expert was away');
    expect(expertSeen.messages.map(text)).toEqual(['one', 'two', 'three']);
    expect(expertSeen.events).toContain('reconnected');
    expect(agentSeen.events.at(-1)).toBe('peer connected');
  });

  it('ends at once while the peer is away (it acknowledges nothing), and the peer hears of the end when it is back', async () => {
    const relay = await startRelay();
    // Were end() to wait for the absent expert's acknowledgement, it would wait an hour and the test time out.
    const { agent, agentSeen, expertSeen, until } = await connectedPair(relay, { endTimeoutMs: 3_600_000 });
    await until(() => agentSeen.events.includes('peer connected'), 'the agent to see the expert');
    relay.refuseConnections = true;
    relay.dropConnection('expert');
    await until(() => agentSeen.events.includes('peer disconnected'), 'the agent to see the expert leave');
    await agent.sendText('never acknowledged');

    expect(await agent.end()).toMatchObject({ reason: 'ended-by-agent', delivered: false });
    relay.refuseConnections = false;
    await until(() => expertSeen.ended !== undefined, 'the expert to learn of the end');
    expect(expertSeen.ended).toMatchObject({ reason: 'ended-by-agent' });
  });

  it('takes frames from a peer reported gone as a sign it is back, once in-flight leftovers have had time to arrive', async () => {
    const relay = await startRelay();
    const { expert, agentSeen, until } = await connectedPair(relay);
    await until(() => agentSeen.events.includes('peer connected'), 'the agent to see the expert');

    relay.notify('agent', { type: 'peer', state: 'disconnected' }); // wrong: the expert is still there
    await until(() => agentSeen.events.at(-1) === 'peer disconnected', 'the agent to believe it');
    await expert.sendText('still here');
    await until(() => agentSeen.messages.length === 1, 'the message');
    expect(agentSeen.events.at(-1)).toBe('peer disconnected'); // so soon after, it could be a leftover

    // Unacked, the expert retransmits; a frame after the grace period shows it is connected.
    await until(() => agentSeen.events.at(-1) === 'peer connected', 'the agent to take later frames as the expert being there');
    expect(agentSeen.messages.map(text)).toEqual(['still here']);
  });

  it('rejects a request with a RelayError carrying the relay code, and can try again', async () => {
    const relay = await startRelay();
    const agent = client(relay);
    const expert = client(relay);
    const { nameplate } = await agent.createSession();

    const failure = await expert.joinSession('nope').catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(RelayError);
    expect(failure).toMatchObject({ code: 'session-not-found', requestAction: 'joinSession' });
    await expect(expert.joinSession(nameplate)).resolves.toMatchObject({ role: 'expert' });
  });

  it('reports relay errors that answer no request as error events', async () => {
    const relay = await startRelay();
    const { agentSeen, until } = await connectedPair(relay);

    relay.notify('agent', { type: 'error', code: 'rate-limited', message: 'slow down', requestAction: 'frame' });

    await until(() => agentSeen.errors.length === 1, 'the error event');
    expect(agentSeen.errors[0]).toMatchObject({ name: 'RelayError', code: 'rate-limited', requestAction: 'frame' });
    expect(agentSeen.ended).toBeUndefined();
  });

  it('rejects a request the relay never answers', async () => {
    const relay = await startRelay();
    relay.ignoredActions.add('createSession');
    const clock = new ManualClock();
    const agent = client(relay, { requestTimeoutMs: 50, clock });
    const asked = relay.received('createSession');
    const answer = agent.createSession();
    let outcome = 'waiting';
    answer.then(
      () => (outcome = 'answered'),
      () => (outcome = 'rejected'),
    );

    await asked;
    await clock.advance(49);
    expect(outcome).toBe('waiting');
    await clock.advance(1);
    await expect(answer).rejects.toThrow('the relay did not answer createSession within 50 ms');
  });

  it('ends with the relay reason when the relay ends the session', async () => {
    const relay = await startRelay();
    const { agentSeen, expertSeen, until } = await connectedPair(relay);

    await relay.endSessions('expired');

    await until(() => agentSeen.ended !== undefined && expertSeen.ended !== undefined, 'both ends');
    expect(agentSeen.ended).toEqual({ reason: 'expired', peerClosed: false, delivered: false });
    expect(agentSeen.events.filter((event) => event.startsWith('reconnecting'))).toEqual([]);
  });

  it('takes the expiry the relay gives on resume: an extension made while it was away', async () => {
    const relay = await startRelay();
    const { expert, expertSeen, until } = await connectedPair(relay);
    await until(() => expert.activation !== undefined, 'the activation');
    const before = expert.activation!.expiresAt;

    relay.dropConnection('expert');
    await relay.extendSessions(1800);
    await until(() => expertSeen.events.includes('reconnected'), 'the resume');
    expect(expert.activation!.expiresAt).toBe(before + 1800);
    expect(expert.session!.expiresAt).toBe(before + 1800);
  });

  it('learns why the session ended while it was away, when the relay refuses its resume', async () => {
    const relay = await startRelay();
    const { agentSeen, until } = await connectedPair(relay);

    relay.dropConnection('agent');
    await relay.endSessions('ended-by-expert'); // in the same tick: the agent's socket is gone and hears nothing

    await until(() => agentSeen.ended !== undefined, 'the end');
    expect(agentSeen.ended).toMatchObject({ reason: 'ended-by-expert' });
    expect(agentSeen.ended?.error).toBeUndefined();
    expect(agentSeen.events).toContain('reconnecting 1');
  });

  it('gives up when the relay refuses to resume', async () => {
    const relay = await startRelay();
    const { agentSeen, until } = await connectedPair(relay);

    relay.dropConnection('agent');
    relay.forgetSessions();

    await until(() => agentSeen.ended !== undefined, 'the end');
    expect(agentSeen.ended).toMatchObject({ reason: 'resume-rejected', error: { code: 'invalid-resume-token' } });
    expect(agentSeen.events).toContain('reconnecting 1');
  });

  it('gives up after maxAttempts reconnects when the relay stays unreachable', async () => {
    const relay = await startRelay();
    const { agentSeen, until } = await connectedPair(relay, { reconnect: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 } });

    relay.refuseConnections = true;
    relay.dropConnection('agent');

    await until(() => agentSeen.ended !== undefined, 'the end');
    expect(agentSeen.events.filter((event) => event.startsWith('reconnecting'))).toEqual(['reconnecting 1', 'reconnecting 2', 'reconnecting 3']);
    expect(agentSeen.ended).toMatchObject({ reason: 'connection-lost', error: { message: expect.stringContaining('could not connect') } });
  });

  it('ends the session for both sides when a frame fails to open', async () => {
    const relay = await startRelay();
    const { agentSeen, expertSeen, until } = await connectedPair(relay);

    // A plain-format frame too short to hold its header.
    relay.notify('expert', { type: 'frame', data: encodeBase64(new Uint8Array([PLAIN_FRAME_FORMAT, 0])) });

    await until(() => agentSeen.ended !== undefined && expertSeen.ended !== undefined, 'both ends');
    expect(expertSeen.ended).toMatchObject({ reason: 'stream-failed', error: { name: 'FrameAuthError', code: 'malformed-frame' } });
    expect(agentSeen.ended).toMatchObject({ reason: 'ended-by-expert' });
  });

  it('carries a handshake stream and, once it is done, an encrypted session stream told apart by frame format', async () => {
    const relay = await startRelay();
    const { agent, expert, agentSeen, expertSeen, until } = await connectedPair(relay, { sessionStream: 'manual' });
    await expect(agent.sendText('too early')).rejects.toThrow('no session stream yet');

    const handshake = { codec: createPlainCodec(), frameFormat: PLAIN_FRAME_FORMAT };
    const agentHandshake = agent.openStream(handshake);
    const expertHandshake = expert.openStream(handshake);
    expect(() => agent.openStream(handshake)).toThrow('already open');
    const handshakeMessages: string[] = [];
    agentHandshake.on('message', (message) => handshakeMessages.push(text(message)));
    const handshakeArrived = nextEvent(agentHandshake, 'message');
    await expertHandshake.sendText('commit');
    await handshakeArrived;

    // Stand-ins for the traffic secrets a real handshake derives.
    const expertToAgent = crypto.getRandomValues(new Uint8Array(TRAFFIC_SECRET_BYTES));
    const agentToExpert = crypto.getRandomValues(new Uint8Array(TRAFFIC_SECRET_BYTES));
    expert.startStream({
      codec: createFrameCipher({ role: 'expert', sendSecret: expertToAgent, receiveSecret: agentToExpert }),
      frameFormat: FRAME_FORMAT_AES_256_GCM,
    });
    await expert.sendText('sent before the agent had its keys'); // retransmitted until the agent's stream exists
    agent.startStream({
      codec: createFrameCipher({ role: 'agent', sendSecret: agentToExpert, receiveSecret: expertToAgent }),
      frameFormat: FRAME_FORMAT_AES_256_GCM,
    });
    expect(() => agent.startStream(handshake)).toThrow('already started');
    await agent.sendText('encrypted hello');

    await until(() => agentSeen.messages.length === 1 && expertSeen.messages.length === 1, 'the encrypted messages');
    expect(agentSeen.messages.map(text)).toEqual(['sent before the agent had its keys']);
    expect(expertSeen.messages.map(text)).toEqual(['encrypted hello']);
    expect(handshakeMessages).toEqual(['commit']);
  });

  it('invitations: kind and lifetimes go to the relay; approval reaches both sides with the new expiry', async () => {
    const relay = await startRelay();
    const agent = client(relay);
    const expert = client(relay);
    const expertActive: unknown[] = [];
    expert.on('active', (activation) => expertActive.push(activation));
    const created = await agent.createSession({ kind: 'file', invitationTtlSeconds: 600, sessionTtlSeconds: 3600 });
    expect(relay.requests[0]).toEqual({ action: 'createSession', kind: 'file', invitationTtlSeconds: 600, sessionTtlSeconds: 3600 });
    expect(agent.isCreator).toBe(true);
    await expert.joinSession(created.nameplate);
    expect(expert.isCreator).toBe(false);

    const expertHears = nextEvent(expert, 'active');
    const activation = await agent.approveSession('control');
    await expertHears;
    expect(expertActive).toEqual([activation]);
    expect(agent.activation).toEqual(activation);
    expect(agent.session?.expiresAt).toBe(activation.expiresAt);
    await expect(agent.recordEvent('paused')).resolves.toBeUndefined();
    expect((await agent.listAudit()).map((entry) => entry.event)).toEqual(['created', 'joined', 'approved', 'paused']);
  });

  it('a joiner that leaves before approval: the creator hears it left and its streams are dropped for the next joiner', async () => {
    const relay = await startRelay();
    const manual = { sessionStream: 'manual' as const };
    const agent = client(relay, manual);
    const watch = new Watch();
    const agentSeen = collect(agent, watch);
    const { nameplate } = await agent.createSession();
    const first = client(relay, manual);
    await first.joinSession(nameplate);
    const handshake = { codec: createPlainCodec(), frameFormat: PLAIN_FRAME_FORMAT };
    agent.startStream(handshake);
    first.startStream(handshake);
    await first.sendText('from the first');
    await watch.until(() => agentSeen.messages.length === 1, 'the first joiner’s message');

    expect((await first.end()).reason).toBe('ended-by-expert');
    await watch.until(() => agentSeen.events.includes('peer left'), 'the creator to hear it');
    expect(agent.hasSessionStream).toBe(false);
    expect(agentSeen.ended).toBeUndefined();

    const second = client(relay, manual);
    await second.joinSession(nameplate);
    agent.startStream(handshake); // seq 0 again: a new stream, not the first joiner's
    second.startStream(handshake);
    await second.sendText('from the second');
    await watch.until(() => agentSeen.messages.length === 2, 'the second joiner’s message');
    expect(agentSeen.messages.map(text)).toEqual(['from the first', 'from the second']);
  });

  it('a request made while reconnecting waits for the connection', async () => {
    const relay = await startRelay();
    const { agent, agentSeen, until } = await connectedPair(relay);
    relay.dropConnection('agent');
    await until(() => agentSeen.events.includes('reconnecting 1'), 'the reconnect');
    await expect(agent.recordEvent('resumed')).resolves.toBeUndefined();
    expect(agentSeen.events).toContain('reconnected');
  });

  it('the agent denies: the session ends for both with denied', async () => {
    const relay = await startRelay();
    const agent = client(relay);
    const expert = client(relay);
    const expertEnds = nextEvent(expert, 'ended');
    const { nameplate } = await agent.createSession();
    await expert.joinSession(nameplate);
    expect((await agent.end({ reason: 'denied' })).reason).toBe('denied');
    const [expertEnd] = await expertEnds;
    expect(expertEnd.reason).toBe('denied');
    expect(relay.requests.at(-1)).toEqual({ action: 'endSession', reason: 'denied' });
  });

  it('takes the WebSocket of browsers and of the ws package', () => {
    expectTypeOf<typeof globalThis.WebSocket>().toMatchTypeOf<WebSocketConstructor>();
    expectTypeOf<typeof WebSocket>().toMatchTypeOf<WebSocketConstructor>();
  });
});

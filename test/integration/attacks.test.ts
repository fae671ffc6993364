// Attacks a malicious or faulty relay can mount on an end-to-end encrypted session, each played by
// the local runtime's tap over real WebSockets. Each must be detected and end or refuse the session
// with a clear reason, or (reordering, loss) be repaired by the stream without the application noticing.
import { afterEach, describe, expect, it } from 'vitest';
import { createFrameCipher, TRAFFIC_SECRET_BYTES } from '../../shared/crypto/frame-cipher.js';
import { FRAME_FORMAT_AES_256_GCM, FRAME_FORMAT_PLAIN, FRAME_HEADER_BYTES, createPlainCodec } from '../../shared/crypto/frame-codec.js';
import { encodeHandshakeMessage, HANDSHAKE_MESSAGE_BYTES, HANDSHAKE_VERSION } from '../../shared/crypto/handshake-messages.js';
import { Handshake, HandshakeError, passwordRelatedString, type HandshakeResult } from '../../shared/crypto/handshake.js';
import { decodeDataPacket, encodeDataPacket } from '../../sdk/packets.js';
import { createRelayClient, establishSecureSession, ReliableStream, type SecureSession, type SecureSessionError } from '../../sdk/node.js';
import { useCleanups } from '../support/harness.js';
import { useLocalRuntime } from '../support/runtime.js';
import {
  approvePair,
  secureClientOptions,
  injectFrame,
  observe,
  openPair,
  RecordingTap,
  securePair,
  type Pair,
  type SecuredPair,
} from '../support/secure-pair.js';
import { TestSocket } from '../support/ws-client.js';
import { ManualClock } from '../unit/sdk/support/manual-clock.js';

const tap = new RecordingTap();
const runtime = useLocalRuntime({ tap });

const defer = useCleanups();
afterEach(() => {
  tap.rewriteFrame = undefined;
});

const credentials = { secret: 'VK4Q9T2M', invitationPassword: 'correct horse battery staple' };
const honest = { agent: credentials, expert: credentials };

async function pair(options: Parameters<typeof openPair>[1] = {}): Promise<Pair> {
  const opened = await openPair(runtime(), options);
  defer(() => {
    opened.agent.client.close();
    opened.expert.client.close();
  });
  return opened;
}

/** A pair that completed the handshake honestly, with both sides showing the same code, and the agent approved. */
async function securedPair(options: Parameters<typeof openPair>[1] = {}): Promise<Pair> {
  const opened = await pair(options);
  const secured = await securePair(opened, honest);
  expect(secured.agent.ok && secured.expert.ok).toBe(true);
  expect(secured.agent.ok && secured.agent.session.verificationCode).toBe(secured.expert.ok && secured.expert.session.verificationCode);
  await approvePair(opened);
  return opened;
}

const connections = (p: Pair) => ({
  agent: tap.connectionOf(p.sessionId, 'agent'),
  expert: tap.connectionOf(p.sessionId, 'expert'),
});

/** Header fields of a frame as the relay can read them. */
function header(frame: Uint8Array) {
  const view = new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_BYTES);
  return { format: frame[0], space: frame[1]! & 0b10 ? 'control' : 'data', seq: view.getUint32(4) };
}

const isEncryptedData = (frame: Uint8Array) => frame[0] === FRAME_FORMAT_AES_256_GCM && header(frame).space === 'data';

const failure = (outcome: SecuredPair['agent']) => (outcome.ok ? 'established' : { name: outcome.error.name, code: outcome.error.code });
const verdictOf = (outcome: SecuredPair['agent']) => (outcome.ok ? undefined : outcome.error.verdict);
const firstFailure = { failedAttempts: 1, maxFailedAttempts: 3, burned: false };

const randomSecret = () => crypto.getRandomValues(new Uint8Array(TRAFFIC_SECRET_BYTES));

/** The handshake message a plain data frame carries whole, if it does. */
function handshakePayloadOf(frame: Uint8Array): Uint8Array | undefined {
  if (frame[0] !== FRAME_FORMAT_PLAIN || header(frame).space !== 'data') return undefined;
  const packet = decodeDataPacket(frame.subarray(FRAME_HEADER_BYTES));
  return packet.kind === 'last-chunk' ? packet.payload : undefined;
}

const isHello = (payload: Uint8Array | undefined): payload is Uint8Array =>
  payload?.length === HANDSHAKE_MESSAGE_BYTES.hello && payload[0] === HANDSHAKE_VERSION && payload[1] === 6;

/** The same plain frame (header, riding ack) with another handshake message in it. */
function withHandshakePayload(frame: Uint8Array, payload: Uint8Array): Uint8Array {
  const packet = decodeDataPacket(frame.subarray(FRAME_HEADER_BYTES));
  const body = encodeDataPacket({ ...packet, kind: 'last-chunk', payload } as Parameters<typeof encodeDataPacket>[0]);
  return Uint8Array.of(...frame.subarray(0, FRAME_HEADER_BYTES), ...body);
}

describe('attacks through the relay on an end-to-end encrypted session', () => {
  it('a wrong invitation password fails confirmation on both sides, sends the abort, counts one guess at the relay and removes the expert before any encrypted frame', async () => {
    const p = await pair();
    const secured = await securePair(p, { agent: credentials, expert: { ...credentials, invitationPassword: 'correct horse battery stapler' } });

    expect(failure(secured.agent)).toEqual({ name: 'SecureSessionError', code: 'confirmation-failed' });
    expect(failure(secured.expert)).toEqual({ name: 'SecureSessionError', code: 'confirmation-failed' });
    expect(verdictOf(secured.agent)).toEqual(firstFailure);
    // The invitation stays open for the agent; the relay removed the expert.
    expect(p.agent.seen.ended).toBeUndefined();
    expect(p.expert.seen.ended?.reason).toBe('confirmation-failed');

    const { agent, expert } = connections(p);
    // The agent told the expert (abort as the payload of a plain data packet, perhaps with an ack riding
    // along), and nothing encrypted ever left either side.
    const agentPlainData = tap.framesFromClients({ connectionId: agent, format: FRAME_FORMAT_PLAIN }).filter((f) => header(f).space === 'data');
    const packets = agentPlainData.map((f) => decodeDataPacket(f.subarray(FRAME_HEADER_BYTES)));
    expect(packets).toContainEqual(expect.objectContaining({ kind: 'last-chunk', payload: encodeHandshakeMessage({ type: 'abort' }) }));
    expect(tap.framesFromClients({ connectionId: agent, format: FRAME_FORMAT_AES_256_GCM })).toEqual([]);
    expect(tap.framesFromClients({ connectionId: expert, format: FRAME_FORMAT_AES_256_GCM })).toEqual([]);
    // And the application never got a message.
    expect([...p.agent.seen.messages, ...p.expert.seen.messages]).toEqual([]);
  });

  it('a frame with one flipped bit fails authentication and ends the session (stream-failed, FrameAuthError) before it is delivered', async () => {
    const p = await securedPair();
    await p.expert.client.sendText('before');
    await p.until(() => p.agent.seen.messages.length === 1, 'the first message');

    let tampered = 0;
    tap.rewriteFrame = (frame, from) => {
      if (from.role !== 'expert' || !isEncryptedData(frame) || tampered > 0) return undefined;
      tampered++;
      const copy = frame.slice();
      copy[FRAME_HEADER_BYTES + 1]! ^= 0x01; // one ciphertext bit
      return copy;
    };
    await p.expert.client.sendText('pay 100 EUR to Mallory');
    await p.until(() => p.agent.seen.ended !== undefined && p.expert.seen.ended !== undefined, 'both ends');

    expect(tampered).toBe(1);
    expect(p.agent.seen.ended).toMatchObject({ reason: 'stream-failed', error: { name: 'FrameAuthError', code: 'authentication-failed' } });
    expect(p.expert.seen.ended).toMatchObject({ reason: 'ended-by-agent' });
    expect(p.agent.seen.messages).toEqual(['before']);
  });

  it('a replayed frame is not delivered twice; reflected back to its sender it ends the session (reflected-frame)', async () => {
    const p = await securedPair();
    const captured: Uint8Array[] = [];
    tap.rewriteFrame = (frame, from) => {
      if (from.role === 'expert' && isEncryptedData(frame) && captured.length === 0) captured.push(frame.slice());
      return undefined;
    };
    await p.expert.client.sendText('transfer 100 EUR');
    await p.until(() => p.agent.seen.messages.length === 1 && captured.length === 1, 'the message and its frame');
    tap.rewriteFrame = undefined;

    const { agent, expert } = connections(p);
    const duplicatesBefore = p.agent.client.stats.stream!.duplicateFrames;
    await injectFrame(runtime(), agent, captured[0]!);
    await p.expert.client.sendText('after the replay');
    await p.until(
      () => p.agent.seen.messages.length === 2 && p.agent.client.stats.stream!.duplicateFrames > duplicatesBefore,
      'the replay to be processed and the next message to arrive',
    );
    expect(p.agent.seen.messages).toEqual(['transfer 100 EUR', 'after the replay']);
    expect(p.agent.seen.ended).toBeUndefined();

    // The same bytes sent back to the expert claim the expert's own direction.
    await injectFrame(runtime(), expert, captured[0]!);
    await p.until(() => p.agent.seen.ended !== undefined && p.expert.seen.ended !== undefined, 'both ends');
    expect(p.expert.seen.ended).toMatchObject({ reason: 'stream-failed', error: { name: 'FrameAuthError', code: 'reflected-frame' } });
    expect(p.agent.seen.ended).toMatchObject({ reason: 'ended-by-expert' });
    expect(p.expert.seen.messages).toEqual([]);
  });

  it('reordered and dropped frames are repaired by the stream: every message once, in order, and an orderly end', async () => {
    const p = await securedPair();
    const { agent } = connections(p);
    const seen = new Set<number>();
    let held: Uint8Array | undefined;
    let dropped = 0;
    tap.rewriteFrame = (frame, from) => {
      if (from.role !== 'expert' || !isEncryptedData(frame)) return undefined;
      const { seq } = header(frame);
      const first = !seen.has(seq);
      seen.add(seq);
      if (seq === 1 && first) {
        dropped++;
        return null; // lost: comes back only as a retransmission
      }
      if (seq === 2 && first) {
        held = frame.slice();
        return null; // held back ...
      }
      if (seq === 4 && first && held) void injectFrame(runtime(), agent, held); // ... and delivered after later ones
      return undefined;
    };
    const sent = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'];
    for (const message of sent) await p.expert.client.sendText(message);
    await p.until(() => p.agent.seen.messages.length === sent.length, 'every message');

    expect(dropped).toBe(1);
    expect(p.agent.seen.messages).toEqual(sent);
    expect(p.expert.client.stats.stream!.retransmits).toBeGreaterThan(0);

    tap.rewriteFrame = undefined;
    const end = await p.expert.client.end();
    await p.until(() => p.agent.seen.ended !== undefined, 'the agent to hear the end');
    expect(end).toMatchObject({ reason: 'ended-by-expert', delivered: true });
    expect(p.agent.seen.ended).toMatchObject({ reason: 'ended-by-expert', peerClosed: true });
  });

  it('truncation (the relay drops the rest and the authenticated close) is reported as a cut: peerClosed false', async () => {
    // Both sides' timers on the manual clock: the expert's wait for acks that never come passes without sleeping.
    const clock = new ManualClock();
    const endTimeoutMs = 30_000;
    const p = await securedPair({ clock, endTimeoutMs });
    await p.expert.client.sendText('one');
    await p.until(() => p.agent.seen.messages.length === 1, 'the first message');

    let suppressed = 0;
    tap.rewriteFrame = (frame, from) => {
      if (from.role !== 'expert' || frame[0] !== FRAME_FORMAT_AES_256_GCM) return undefined;
      suppressed++;
      return null;
    };
    await p.expert.client.sendText('two');
    await p.expert.client.sendText('three');
    const ending = p.expert.client.end();
    await clock.whenScheduled((ms) => ms === endTimeoutMs, 'the expert to wait for its acks'); // acks that never come: then it ends
    await clock.advance(endTimeoutMs);
    const end = await ending;
    await p.until(() => p.agent.seen.ended !== undefined, 'the agent to hear the end');

    expect(suppressed).toBeGreaterThanOrEqual(3); // two, three and the close, at least once each
    expect(end).toMatchObject({ reason: 'ended-by-expert', delivered: false });
    expect(p.agent.seen.ended).toMatchObject({ reason: 'ended-by-expert', peerClosed: false });
    expect(p.agent.seen.messages).toEqual(['one']);
  });

  it('a frame sealed under a random key (forged or re-encrypted by the relay) fails authentication and ends the session', async () => {
    const p = await securedPair();
    await p.expert.client.sendText('genuine');
    await p.until(() => p.agent.seen.messages.length === 1, 'the genuine message');

    const forger = createFrameCipher({ role: 'expert', sendSecret: randomSecret(), receiveSecret: randomSecret() });
    const forged = await forger.seal('data', 1, encodeDataPacket({ kind: 'last-chunk', payload: new TextEncoder().encode('forged') }));
    await injectFrame(runtime(), connections(p).agent, forged);
    await p.until(() => p.agent.seen.ended !== undefined && p.expert.seen.ended !== undefined, 'both ends');

    expect(p.agent.seen.ended).toMatchObject({ reason: 'stream-failed', error: { name: 'FrameAuthError', code: 'authentication-failed' } });
    expect(p.expert.seen.ended).toMatchObject({ reason: 'ended-by-agent' });
    expect(p.agent.seen.messages).toEqual(['genuine']);
  });

  it('a plaintext frame injected on the handshake stream after the handshake is never delivered and ends the session', async () => {
    const p = await securedPair();
    const { agent } = connections(p);
    // The relay sees the plain handshake frames, so it knows the next plain seq towards the agent (hello 0, commit 1, reveal 2).
    const nextPlainSeq = Math.max(...tap.framesFromClients({ connectionId: connections(p).expert, format: FRAME_FORMAT_PLAIN })
      .filter((f) => header(f).space === 'data')
      .map((f) => header(f).seq)) + 1;
    const injected = await createPlainCodec().seal('data', nextPlainSeq, encodeDataPacket({ kind: 'last-chunk', payload: new TextEncoder().encode('downgrade') }));
    // The relay also hides the agent's acks of it (the expert's stream would reject an ack of data it never sent).
    tap.rewriteFrame = (frame, from) => (from.role === 'agent' && frame[0] === FRAME_FORMAT_PLAIN ? null : undefined);
    await injectFrame(runtime(), agent, injected);
    await p.until(() => p.agent.seen.ended !== undefined && p.expert.seen.ended !== undefined, 'both ends');

    expect(p.agent.seen.ended).toMatchObject({ reason: 'ended-by-agent' });
    expect(p.expert.seen.ended).toMatchObject({ reason: 'ended-by-agent' });
    expect(p.agent.seen.messages).toEqual([]);
  });

  for (const from of ['expert', 'agent'] as const) {
    it(`a relay that flips a bit of the ${from}'s sid nonce (its hello) fails confirmation on both sides, counted as a failed attempt; no key is agreed`, async () => {
      const p = await pair();
      let flipped = 0;
      tap.rewriteFrame = (frame, sender) => {
        const payload = handshakePayloadOf(frame);
        if (sender.role !== from || !isHello(payload)) return undefined;
        flipped++;
        const tampered = payload.slice();
        tampered[2 + 7]! ^= 0x01; // a bit in the middle of the nonce, the same in every retransmission
        return withHandshakePayload(frame, tampered);
      };
      const secured = await securePair(p, honest);

      expect(flipped).toBeGreaterThan(0);
      expect(failure(secured.agent)).toEqual({ name: 'SecureSessionError', code: 'confirmation-failed' });
      expect(failure(secured.expert)).toEqual({ name: 'SecureSessionError', code: 'confirmation-failed' });
      // The creator counted it (its share was out) and so did the relay; the expert was removed.
      expect(secured.agent.ok || secured.agent.error.counted).toBe(true);
      expect(verdictOf(secured.agent)).toEqual(firstFailure);
      expect(p.expert.seen.ended?.reason).toBe('confirmation-failed');
      const { agent, expert } = connections(p);
      expect(tap.framesFromClients({ connectionId: agent, format: FRAME_FORMAT_AES_256_GCM })).toEqual([]);
      expect(tap.framesFromClients({ connectionId: expert, format: FRAME_FORMAT_AES_256_GCM })).toEqual([]);
    });
  }

  it("a relay that replays the agent's nonce from the invitation's earlier handshake to the next joiner fails confirmation, counted; no key is agreed", async () => {
    const p = await pair();
    // A first joiner with a wrong password: the relay records the agent's hello (its sid nonce).
    let recordedHello: Uint8Array | undefined;
    tap.rewriteFrame = (frame, sender) => {
      const payload = handshakePayloadOf(frame);
      if (sender.role === 'agent' && isHello(payload)) recordedHello ??= payload.slice();
      return undefined;
    };
    const first = await securePair(p, { agent: credentials, expert: { ...credentials, invitationPassword: 'wrong' } });
    expect(verdictOf(first.agent)).toEqual(firstFailure);
    expect(recordedHello).toBeDefined();

    // The next joiner, with the right password, in the same session (same nameplate, session id, CI):
    // the relay swaps the agent's fresh nonce for the recorded one.
    const nextJoiner = async () => {
      const client = createRelayClient({ url: runtime().wsUrl, ...secureClientOptions });
      defer(() => client.close());
      await client.joinSession(p.nameplate);
      return { ...p, expert: { client, seen: observe(client) } };
    };
    const second = await nextJoiner();
    let replayed = 0;
    tap.rewriteFrame = (frame, sender) => {
      const payload = handshakePayloadOf(frame);
      if (sender.role !== 'agent' || !isHello(payload)) return undefined;
      replayed++;
      return withHandshakePayload(frame, recordedHello!);
    };
    const secured = await securePair(second, honest);
    expect(replayed).toBeGreaterThan(0);
    expect(failure(secured.agent)).toEqual({ name: 'SecureSessionError', code: 'confirmation-failed' });
    expect(failure(secured.expert)).toEqual({ name: 'SecureSessionError', code: 'confirmation-failed' });
    expect(verdictOf(secured.agent)).toEqual({ ...firstFailure, failedAttempts: 2 });
    const { agent } = connections(p);
    expect(tap.framesFromClients({ connectionId: agent, format: FRAME_FORMAT_AES_256_GCM })).toEqual([]);
    expect(tap.framesFromClients({ connectionId: tap.connectionOf(p.sessionId, 'expert'), format: FRAME_FORMAT_AES_256_GCM })).toEqual([]);

    // Control: the joiner after that, left alone by the relay, gets in on the same invitation.
    tap.rewriteFrame = undefined;
    const third = await securePair(await nextJoiner(), honest);
    expect(third.agent.ok && third.expert.ok).toBe(true);
  });

  it('a relay that runs its own key exchange towards each side (man in the middle, guessed password) fails confirmation on both; no data flows', async () => {
    const p = await pair();
    const { agent, expert } = connections(p);
    const guess = passwordRelatedString(new TextEncoder().encode(credentials.secret), new TextEncoder().encode('password1'));
    const context = { relayOrigin: 'ws://127.0.0.1', nameplate: p.nameplate, sessionId: p.sessionId };
    // The relay poses as the expert to the agent and as the agent to the expert.
    const towardsAgent = new MitmLeg(runtime, agent, new Handshake({ ...context, role: 'expert', password: guess }));
    const towardsExpert = new MitmLeg(runtime, expert, new Handshake({ ...context, role: 'agent', password: guess }));
    defer(() => {
      towardsAgent.stream.dispose();
      towardsExpert.stream.dispose();
    });
    // Played one leg after the other so each side's failure is its own, not the other side ending the session:
    // the expert leg waits until the agent has rejected the relay's keys; the agent's abort is acknowledged
    // only once the expert has rejected them too.
    towardsExpert.holdUntil(towardsAgent.failed);
    towardsAgent.holdAfterFailureUntil(towardsExpert.failed);
    // Towards the expert, after failing to verify its tag, the relay still tries a confirm of its own.
    towardsExpert.onOwnFailure = () => towardsExpert.sendRaw(encodeHandshakeMessage({ type: 'confirm', tag: new Uint8Array(64).fill(7) }));
    tap.rewriteFrame = (frame, from) => {
      if (frame[0] !== FRAME_FORMAT_PLAIN) return undefined;
      if (from.connectionId === agent) towardsAgent.receive(frame);
      else if (from.connectionId === expert) towardsExpert.receive(frame);
      else return undefined;
      return null; // never forwarded to the real peer
    };
    towardsAgent.start();
    towardsExpert.start();

    const secured = await securePair(p, honest, { abortFlushMs: 30_000 });

    expect(failure(secured.agent)).toEqual({ name: 'SecureSessionError', code: 'confirmation-failed' });
    expect(failure(secured.expert)).toEqual({ name: 'SecureSessionError', code: 'confirmation-failed' });
    expect(verdictOf(secured.agent)).toEqual(firstFailure);
    expect(towardsAgent.established || towardsExpert.established).toBe(false);
    expect(tap.framesFromClients({ connectionId: agent, format: FRAME_FORMAT_AES_256_GCM })).toEqual([]);
    expect(tap.framesFromClients({ connectionId: expert, format: FRAME_FORMAT_AES_256_GCM })).toEqual([]);
  });

  it("a second expert replaying the first expert's handshake messages into a new session fails confirmation", async () => {
    // Session 1, honest; the relay records the expert's handshake frames.
    const first = await securedPair();
    const recorded = tap
      .framesFromClients({ connectionId: connections(first).expert, format: FRAME_FORMAT_PLAIN })
      .filter((frame) => header(frame).space === 'data');
    const bySeq = new Map(recorded.map((frame) => [header(frame).seq, frame]));
    const [hello, commit, reveal] = [bySeq.get(0)!, bySeq.get(1)!, bySeq.get(2)!];
    expect(handshakePayloadOf(hello)).toHaveLength(18);
    expect(handshakePayloadOf(commit)).toHaveLength(66);
    expect(handshakePayloadOf(reveal)).toHaveLength(130);

    // Session 2 on the same invitation secret and password; the impostor is a bare socket.
    const agent = createRelayClient({ url: runtime().wsUrl, ...secureClientOptions });
    defer(() => agent.close());
    const agentSeen = observe(agent);
    const created = await agent.createSession();
    const clock = new ManualClock();
    const abortFlushMs = 2_000;
    const outcome = establishSecureSession(agent, {
      role: 'agent',
      ...credentials,
      relayOrigin: 'ws://127.0.0.1',
      nameplate: created.nameplate,
      sessionId: created.sessionId,
      abortFlushMs, // the impostor never acknowledges the abort: its wait runs on the manual clock
      clock,
    }).then(
      (session: SecureSession) => session,
      (error: SecureSessionError) => error,
    );
    const impostor = await TestSocket.open(runtime().wsUrl);
    defer(() => impostor.close());
    expect(await impostor.request({ action: 'joinSession', nameplate: created.nameplate })).toMatchObject({ type: 'sessionJoined' });

    impostor.send({ action: 'frame', data: Buffer.from(hello).toString('base64') });
    impostor.send({ action: 'frame', data: Buffer.from(commit).toString('base64') });
    // Wait for the agent's share (its second plain data frame, after its hello), then replay the reveal.
    for (;;) {
      const message = await impostor.next();
      if (message.type === 'frame' && Buffer.from(message.data, 'base64')[0] === FRAME_FORMAT_PLAIN) {
        const frame = Buffer.from(message.data, 'base64');
        if (header(frame).space === 'data' && header(frame).seq === 1) break;
      }
    }
    impostor.send({ action: 'frame', data: Buffer.from(reveal).toString('base64') });
    await clock.whenScheduled((ms) => ms === abortFlushMs, 'the agent to wait for the abort to be acknowledged');
    await clock.advance(abortFlushMs);

    expect(await outcome).toMatchObject({ name: 'SecureSessionError', code: 'confirmation-failed', verdict: firstFailure });
    // The relay removed the impostor; the agent's invitation stays open.
    let told = await impostor.next();
    while (told.type === 'frame') told = await impostor.next();
    expect(told).toEqual({ type: 'ended', reason: 'confirmation-failed' });
    expect(agentSeen.ended).toBeUndefined();
    expect(tap.framesFromClients({ connectionId: tap.connectionOf(created.sessionId, 'agent'), format: FRAME_FORMAT_AES_256_GCM })).toEqual([]);
  });
});

/**
 * One leg of a man in the middle: the relay's own ReliableStream and Handshake towards one client,
 * fed with that client's plain frames (which the tap keeps from the real peer) and answering through
 * the relay's @connections API.
 */
class MitmLeg {
  readonly stream: ReliableStream;
  established: HandshakeResult | false = false;
  /** Resolves when the client has rejected this leg (its abort arrived). */
  readonly failed: Promise<void>;
  onOwnFailure: (() => void) | undefined;
  #markFailed!: () => void;
  #inbox: Uint8Array[] = [];
  #gate: Promise<void> = Promise.resolve();
  #frameGate: Promise<void> | undefined;
  #heldFrames: Uint8Array[] = [];
  #failedOnce = false;

  constructor(
    runtime: () => { httpUrl: string },
    connectionId: string,
    readonly handshake: Handshake,
  ) {
    this.failed = new Promise((resolve) => (this.#markFailed = resolve));
    this.stream = new ReliableStream({
      codec: createPlainCodec(),
      initialRtoMs: 100,
      minRtoMs: 20,
      ackDelayMs: 5,
      answerAckDelayMs: 5,
      sendFrame: (frame) => void injectFrame(runtime() as never, connectionId, frame).catch(() => {}),
    });
    this.stream.on('message', (message) => {
      this.#inbox.push(message);
      void this.#gate.then(() => this.#drain());
    });
  }

  /** Plays this leg's opening move, its hello. */
  start(): void {
    void this.stream.send(this.handshake.start());
  }

  /** Processes nothing the client sends until `gate` resolves. */
  holdUntil(gate: Promise<void>): void {
    this.#gate = gate;
  }

  /** Once this leg failed, feeds (and so acknowledges) nothing more until `gate` resolves. */
  holdAfterFailureUntil(gate: Promise<void>): void {
    void this.failed.then(() => {
      this.#frameGate = gate;
      void gate.then(() => {
        this.#frameGate = undefined;
        for (const frame of this.#heldFrames.splice(0)) void this.stream.receiveFrame(frame);
      });
    });
  }

  receive(frame: Uint8Array): void {
    if (this.#frameGate) this.#heldFrames.push(frame);
    else void this.stream.receiveFrame(frame);
  }

  sendRaw(message: Uint8Array): void {
    void this.stream.send(message);
  }

  #drain(): void {
    for (const message of this.#inbox.splice(0)) {
      if (message.length === 2 && message[1] === 5) {
        this.#clientRejected(); // the client's abort: it rejected the relay's keys
        continue;
      }
      if (this.handshake.state === 'failed') continue;
      try {
        const step = this.handshake.receive(message);
        if (step.established) this.established = step.established;
        if (step.reply) void this.stream.send(step.reply);
      } catch (error) {
        if (!(error instanceof HandshakeError)) throw error;
        this.onOwnFailure?.(); // the relay could not verify the client's tag (its guess was wrong)
      }
    }
  }

  #clientRejected(): void {
    if (this.#failedOnce) return;
    this.#failedOnce = true;
    this.#markFailed();
  }
}

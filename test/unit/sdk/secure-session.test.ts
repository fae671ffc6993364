// establishSecureSession against the in-process relay (the real handlers on memory adapters): the handshake on a plain stream, the
// encrypted session stream after it, misuse, and what each side does after a failure: the creator
// reports failed attempts and stays for the next joiner, the joiner leaves.
// Nothing here asserts timing; short timeouts only make the timeout paths quick.
import { describe, expect, it } from 'vitest';
import { FRAME_FORMAT_AES_256_GCM, FRAME_FORMAT_PLAIN } from '../../../shared/crypto/frame-codec.js';
import { Handshake, passwordRelatedString } from '../../../shared/crypto/handshake.js';
import type { InvitationKind, Role } from '../../../shared/core/messages.js';
import { createPlainCodec } from '../../../sdk/codec.js';
import {
  createRelayClient,
  establishSecureSession,
  SecureSessionError,
  type RelayClient,
  type RelayClientOptions,
  type SecureSessionOptions,
  type SessionEnd,
} from '../../../sdk/node.js';
import { fastClientOptions, useCleanups, Watch } from '../../support/harness.js';
import { inProcessRelayWithClients } from '../../support/in-process-relay.js';
import { ManualClock } from './support/manual-clock.js';

const defer = useCleanups();

const fastOptions: Omit<RelayClientOptions, 'url' | 'WebSocket'> = { ...fastClientOptions, sessionStream: 'manual' };
const secret = 'VK4Q9T2M';
const relayOrigin = 'wss://relay.example.com';

/** Woken by every event of the test's clients and raw streams: the waits below check again then, and never on a timer. */
const heard = new Watch();

/** Who watches what: every end and peer notice a client saw. */
function watch(client: RelayClient) {
  heard.hears(client);
  const seen = { ended: undefined as SessionEnd | undefined, peer: [] as string[] };
  client.on('ended', (end) => (seen.ended = end));
  client.on('peer', (state) => seen.peer.push(state));
  return seen;
}

async function setUp(options: { kind?: InvitationKind; client?: Partial<RelayClientOptions>; join?: boolean } = {}) {
  const { relay, newClient } = await inProcessRelayWithClients(defer, { ...fastOptions, ...options.client });
  const creator = newClient();
  const creatorSeen = watch(creator);
  const { nameplate, sessionId, role: creatorRole } = await creator.createSession({ kind: options.kind ?? 'easy-connect' });
  const joinerRole: Role = creatorRole === 'agent' ? 'expert' : 'agent';
  const optionsFor = (role: Role, extra: Partial<SecureSessionOptions> = {}): SecureSessionOptions => ({
    role,
    secret,
    invitationPassword: 'p\u00e4ssword', // precomposed on one side ...
    relayOrigin,
    nameplate,
    sessionId,
    ...extra,
  });
  /** A new joiner in the joiner's seat. */
  const join = async () => {
    const joiner = newClient();
    const seen = watch(joiner);
    await joiner.joinSession(nameplate);
    return { joiner, seen };
  };
  return { relay, creator, creatorSeen, creatorRole, joinerRole, nameplate, sessionId, optionsFor, join, newClient };
}

const outcome = (promise: Promise<unknown>) =>
  promise.then(
    () => 'established',
    (error: SecureSessionError) => ({ name: error.name, code: error.code, verdict: error.verdict }),
  );

/** Sends raw handshake messages from a client as its plain stream's packets, bypassing the SDK's handshake. */
function rawHandshakeStream(client: RelayClient) {
  const stream = client.openStream({ codec: createPlainCodec(), frameFormat: FRAME_FORMAT_PLAIN });
  heard.hears(stream);
  return stream;
}

const impostor = (role: Role, password: string) =>
  new Handshake({ role, password: passwordRelatedString(new TextEncoder().encode(password)), relayOrigin, nameplate: 'x', sessionId: 'y' });

describe('establishSecureSession', () => {
  it('agrees on a verification code, then carries messages only in AES-256-GCM frames', async () => {
    const { relay, creator, optionsFor, join } = await setUp();
    const { joiner } = await join();
    const received: string[] = [];
    creator.on('message', (message) => received.push(new TextDecoder().decode(message)));
    const [agentSession, expertSession] = await Promise.all([
      establishSecureSession(creator, optionsFor('agent')),
      // ... decomposed on the other: NFC makes them the same password.
      establishSecureSession(joiner, optionsFor('expert', { invitationPassword: 'pa\u0308ssword' })),
    ]);
    expect(agentSession.verificationCode).toMatch(/^\d{6}$/);
    expect(expertSession.verificationCode).toBe(agentSession.verificationCode);

    await joiner.sendText('secret plan');
    await heard.until(() => received.length === 1, 'the message');
    expect(received).toEqual(['secret plan']);
    const frames = relay.requests.flatMap((request) => (request.action === 'frame' ? [Buffer.from(request.data, 'base64')] : []));
    expect(new Set(frames.map((frame) => frame[0]))).toEqual(new Set([FRAME_FORMAT_PLAIN, FRAME_FORMAT_AES_256_GCM]));
    expect(frames.some((frame) => frame.includes('secret plan'))).toBe(false);
  });

  it('refuses misuse: no session, a started session stream, a role or session id that is not the client’s, an empty secret', async () => {
    const { creator, optionsFor } = await setUp();
    const idle = createRelayClient({ url: 'ws://127.0.0.1:9', ...fastOptions });
    expect(() => establishSecureSession(idle, optionsFor('agent'))).toThrow('needs an established session');
    expect(() => establishSecureSession(creator, optionsFor('expert'))).toThrow(RangeError);
    expect(() => establishSecureSession(creator, optionsFor('agent', { sessionId: 'another' }))).toThrow(RangeError);
    expect(() => establishSecureSession(creator, optionsFor('agent', { handshakeTimeoutMs: -1 }))).toThrow(RangeError);
    expect(() => establishSecureSession(creator, optionsFor('agent', { secret: '' }))).toThrow('secret must not be empty');

    const automatic = await setUp({ client: { sessionStream: undefined } });
    expect(() => establishSecureSession(automatic.creator, automatic.optionsFor('agent'))).toThrow("sessionStream: 'manual'");
  });

  it('a wrong password: confirmation-failed on both sides; the agent (creator) reports it and stays, the expert is removed; the next expert gets in', async () => {
    const { relay, creator, creatorSeen, optionsFor, join } = await setUp();
    const first = await join();
    const outcomes = await Promise.all([
      outcome(establishSecureSession(creator, optionsFor('agent'))),
      outcome(establishSecureSession(first.joiner, optionsFor('expert', { invitationPassword: 'passw0rd' }))),
    ]);
    expect(outcomes).toEqual([
      { name: 'SecureSessionError', code: 'confirmation-failed', verdict: { failedAttempts: 1, maxFailedAttempts: 3, burned: false } },
      { name: 'SecureSessionError', code: 'confirmation-failed', verdict: undefined },
    ]);
    expect(first.seen.ended?.reason).toBe('confirmation-failed');
    expect(creatorSeen.ended).toBeUndefined();
    expect(creatorSeen.peer).toEqual(['connected', 'left']);
    expect(relay.requests.filter((request) => request.action === 'reportFailedAttempt')).toHaveLength(1);
    await expect(creator.sendText('anything')).rejects.toThrow('no session stream yet');

    const second = await join();
    const [agentSession, expertSession] = await Promise.all([
      establishSecureSession(creator, optionsFor('agent')),
      establishSecureSession(second.joiner, optionsFor('expert')),
    ]);
    expect(expertSession.verificationCode).toBe(agentSession.verificationCode);
  });

  it('three wrong passwords burn the invitation: each attempt reported with the count, then the session ends for the creator', async () => {
    const { creator, creatorSeen, optionsFor, join } = await setUp();
    const verdicts: unknown[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const { joiner, seen } = await join();
      const [agent, expert] = await Promise.all([
        outcome(establishSecureSession(creator, optionsFor('agent'))),
        outcome(establishSecureSession(joiner, optionsFor('expert', { invitationPassword: `guess ${attempt}` }))),
      ]);
      verdicts.push(typeof agent === 'string' ? agent : agent.verdict);
      expect(expert).toMatchObject({ code: 'confirmation-failed' });
      await heard.until(() => seen.ended !== undefined, 'the expert to be removed');
      expect(seen.ended?.reason).toBe(attempt < 3 ? 'confirmation-failed' : 'burned');
    }
    expect(verdicts).toEqual([1, 2, 3].map((failedAttempts) => ({ failedAttempts, maxFailedAttempts: 3, burned: failedAttempts === 3 })));
    await heard.until(() => creatorSeen.ended !== undefined, 'the end');
    expect(creatorSeen.ended?.reason).toBe('burned');
  });

  it('helper code: the expert (creator) commits only once the agent joined; a wrong code is reported by the expert, the agent removed', async () => {
    const { relay, creator, creatorSeen, optionsFor, join } = await setUp({ kind: 'helper-code' });
    const expertOutcome = outcome(establishSecureSession(creator, optionsFor('expert')));
    const { joiner, seen } = await join();
    const agentOutcome = outcome(establishSecureSession(joiner, optionsFor('agent', { secret: 'VK4Q9T2N' })));
    expect(await Promise.all([expertOutcome, agentOutcome])).toEqual([
      { name: 'SecureSessionError', code: 'confirmation-failed', verdict: { failedAttempts: 1, maxFailedAttempts: 3, burned: false } },
      { name: 'SecureSessionError', code: 'confirmation-failed', verdict: undefined },
    ]);
    expect(seen.ended?.reason).toBe('confirmation-failed');
    expect(creatorSeen.ended).toBeUndefined();
    // The expert's first frame reached the relay only after the agent's join: it waited for a joiner.
    const actions = relay.requests.map((request) => request.action);
    expect(actions.indexOf('frame')).toBeGreaterThan(actions.indexOf('joinSession'));

    const next = await join();
    const [expertSession, agentSession] = await Promise.all([
      establishSecureSession(creator, optionsFor('expert')),
      establishSecureSession(next.joiner, optionsFor('agent')),
    ]);
    expect(agentSession.verificationCode).toBe(expertSession.verificationCode);
  });

  it('helper code: an agent that takes the reveal and leaves has made a guess: the expert reports it (peer-left)', async () => {
    const { relay, creator, optionsFor, join } = await setUp({ kind: 'helper-code' });
    const expertOutcome = outcome(establishSecureSession(creator, optionsFor('expert')));
    const { joiner } = await join();
    const guesser = impostor('agent', 'a guess');
    const stream = rawHandshakeStream(joiner);
    void stream.send(guesser.start());
    let received = 0;
    stream.on('message', (message) => {
      received++;
      // hello; commit → share; then the reveal, whose tag fails to verify: that is the answer to the guess.
      if (guesser.state !== 'awaiting-hello' && guesser.state !== 'awaiting-commit') return;
      const { reply } = guesser.receive(message);
      if (reply) void stream.send(reply);
    });
    await heard.until(() => received === 3 && guesser.state === 'awaiting-reveal', 'the reveal');
    void joiner.end();

    expect(await expertOutcome).toEqual({
      name: 'SecureSessionError',
      code: 'peer-left',
      verdict: { failedAttempts: 1, maxFailedAttempts: 3, burned: false },
    });
    expect(relay.requests.filter((request) => request.action === 'reportFailedAttempt')).toHaveLength(1);
  });

  it('a failure before the agent’s share exposed nothing: an expert that leaves is not reported', async () => {
    const { relay, creator, creatorSeen, optionsFor, join } = await setUp();
    const agentOutcome = outcome(establishSecureSession(creator, optionsFor('agent')));
    const { joiner } = await join();
    const stream = rawHandshakeStream(joiner);
    const toJoiner: Uint8Array[] = [];
    stream.on('message', (message) => toJoiner.push(message));
    await stream.send(new Uint8Array([2, 9, 9]));
    // The agent's hello comes first (it sends it at once), then its abort.
    await heard.until(() => toJoiner.some((message) => message.length === 2 && message[1] === 5), "the agent's abort");
    await joiner.end();

    expect(await agentOutcome).toEqual({ name: 'SecureSessionError', code: 'malformed-message', verdict: undefined });
    expect(creatorSeen.peer).toContain('left');
    expect(relay.requests.filter((request) => request.action === 'reportFailedAttempt')).toEqual([]);
    expect(creatorSeen.ended).toBeUndefined();
  });

  it('a peer of the previous release (handshake version 1) fails as peer-outdated, with the sentence to update; no guess is counted', async () => {
    // The creator (agent) meets an old expert, whose first message is a version-1 commit.
    const { relay, creator, optionsFor, join } = await setUp();
    // Its failure is taken at once: it may come before the test awaits it.
    const agentFailure = establishSecureSession(creator, optionsFor('agent')).then(() => undefined, (rejection: unknown) => rejection as SecureSessionError);
    const { joiner } = await join();
    const oldExpert = rawHandshakeStream(joiner);
    const toOldExpert: Uint8Array[] = [];
    oldExpert.on('message', (message) => toOldExpert.push(message));
    await oldExpert.send(Uint8Array.of(1, 1, ...new Uint8Array(64)));
    await heard.until(() => toOldExpert.some((message) => message.length === 2 && message[1] === 5), "the agent's abort");
    await joiner.end(); // as the old release does once it has failed too
    const error = (await agentFailure)!;
    expect({ code: error.code, counted: error.counted, verdict: error.verdict }).toEqual({ code: 'peer-outdated', counted: false, verdict: undefined });
    expect(error.message).toContain('older version of assist');
    expect(relay.requests.filter((request) => request.action === 'reportFailedAttempt')).toEqual([]);

    // A joining expert meets an old agent, which answers its hello with a version-1 abort.
    const old = await setUp();
    const oldAgent = rawHandshakeStream(old.creator);
    oldAgent.on('message', () => void oldAgent.send(Uint8Array.of(1, 5)));
    const { joiner: expert } = await old.join();
    expect(await outcome(establishSecureSession(expert, old.optionsFor('expert')))).toEqual({ name: 'SecureSessionError', code: 'peer-outdated', verdict: undefined });
  });

  it('an expert that stays after a failure that exposed nothing is removed by a report, as the only way to free the seat', async () => {
    const { creator, optionsFor, join } = await setUp();
    const clock = new ManualClock();
    const agentOutcome = outcome(establishSecureSession(creator, optionsFor('agent', { clock })));
    const { joiner, seen } = await join();
    await rawHandshakeStream(joiner).send(new Uint8Array([2, 9, 9]));
    // Once the agent has failed it waits its abort flush (2 s by default), then as long for the expert to leave by itself: on the manual clock.
    await clock.whenScheduled((ms) => ms === 2_000, "the agent's abort flush");
    expect(await clock.runUntilSettled(agentOutcome, "the agent's failure")).toMatchObject({ code: 'malformed-message', verdict: { failedAttempts: 1 } });
    await heard.until(() => seen.ended !== undefined, 'the expert to be removed');
    expect(seen.ended?.reason).toBe('confirmation-failed');
  });

  it('an expert that goes silent after the commit: the agent times out, reports the attempt, and the expert is removed', async () => {
    const { creator, creatorSeen, optionsFor, join } = await setUp();
    const clock = new ManualClock();
    const agentOutcome = outcome(establishSecureSession(creator, optionsFor('agent', { clock })));
    const { joiner, seen } = await join();
    const silent = impostor('expert', 'guess');
    const stream = rawHandshakeStream(joiner);
    await stream.send(silent.start());
    let fromAgent = 0;
    stream.on('message', (message) => {
      fromAgent++;
      // The agent's hello → the commit; the agent's share then waits for a reveal that never comes.
      if (silent.state === 'awaiting-hello') void stream.send(silent.receive(message).reply!);
    });
    await heard.until(() => fromAgent === 2, "the agent's share");
    // The default 60 s timeout and 2 s abort flush, on the manual clock: nothing sleeps.
    expect(await clock.runUntilSettled(agentOutcome, "the agent's timeout")).toEqual({
      name: 'SecureSessionError',
      code: 'timeout',
      verdict: { failedAttempts: 1, maxFailedAttempts: 3, burned: false },
    });
    await heard.until(() => seen.ended !== undefined, 'the expert to be removed');
    expect(seen.ended?.reason).toBe('confirmation-failed');
    expect(creatorSeen.ended).toBeUndefined();
  });

  it('an agent that never answers: the expert times out and leaves; the invitation stays open', async () => {
    const { relay, creatorSeen, optionsFor, join } = await setUp();
    const { joiner, seen } = await join();
    const clock = new ManualClock();
    const expertOutcome = outcome(establishSecureSession(joiner, optionsFor('expert', { clock })));
    expect(await clock.runUntilSettled(expertOutcome, "the expert's timeout")).toMatchObject({ name: 'SecureSessionError', code: 'timeout' });
    expect(seen.ended?.reason).toBe('ended-by-expert');
    await heard.until(() => creatorSeen.peer.includes('left'), 'the agent to see the expert leave');
    expect(creatorSeen.ended).toBeUndefined();
    expect(relay.requests.filter((request) => request.action === 'reportFailedAttempt')).toEqual([]);
  });

  it('the session ending mid-handshake rejects with session-ended, whichever side and whether or not a joiner came', async () => {
    const { relay, creator, optionsFor } = await setUp();
    const waiting = outcome(establishSecureSession(creator, optionsFor('agent')));
    await relay.endSessions('expired');
    expect(await waiting).toMatchObject({ code: 'session-ended' });

    const other = await setUp();
    const { joiner } = await other.join();
    const running = outcome(establishSecureSession(joiner, other.optionsFor('expert')));
    await other.relay.endSessions('expired');
    expect(await running).toMatchObject({ code: 'session-ended' });
  });
});

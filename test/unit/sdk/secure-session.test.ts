// establishSecureSession against the in-process fake relay: the handshake on a plain stream, the
// encrypted session stream after it, misuse, and which failures the agent counts as guesses.
// Nothing here asserts timing; short timeouts only make the timeout paths quick.
import { describe, expect, it } from 'vitest';
import { FRAME_FORMAT_AES_256_GCM, FRAME_FORMAT_PLAIN } from '../../../shared/crypto/frame-codec.js';
import { Handshake, passwordRelatedString } from '../../../shared/crypto/handshake.js';
import { createPlainCodec } from '../../../sdk/codec.js';
import {
  createRelayClient,
  establishSecureSession,
  SecureSessionError,
  type FailedAttempt,
  type RelayClient,
  type RelayClientOptions,
  type SecureSessionOptions,
  type SessionEnd,
} from '../../../sdk/node.js';
import { fastClientOptions, until, useCleanups } from '../../support/harness.js';
import { FakeRelay } from './support/fake-relay.js';

const defer = useCleanups();

const fastOptions: Omit<RelayClientOptions, 'url' | 'WebSocket'> = { ...fastClientOptions, sessionStream: 'manual' };

async function setUp(options: Partial<RelayClientOptions> = {}) {
  const relay = await FakeRelay.start();
  defer(() => relay.stop());
  const client = () => {
    const created = createRelayClient({ url: relay.url, ...fastOptions, ...options });
    defer(() => created.close());
    return created;
  };
  const agent = client();
  const expert = client();
  const ends: Partial<Record<'agent' | 'expert', SessionEnd>> = {};
  agent.on('ended', (end) => (ends.agent = end));
  expert.on('ended', (end) => (ends.expert = end));
  const { nameplate, sessionId } = await agent.createSession();
  await expert.joinSession(nameplate);
  const failedAttempts: FailedAttempt[] = [];
  const optionsFor = (role: 'agent' | 'expert', extra: Partial<SecureSessionOptions> = {}): SecureSessionOptions => ({
    role,
    secret: 'VK4Q9T2M',
    invitationPassword: 'p\u00e4ssword', // precomposed on one side ...
    relayOrigin: 'wss://relay.example.com',
    nameplate,
    sessionId,
    onFailedAttempt: (attempt) => failedAttempts.push(attempt),
    ...extra,
  });
  return { relay, agent, expert, ends, nameplate, sessionId, failedAttempts, optionsFor };
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: SecureSessionError) => ({ name: error.name, code: error.code }),
  );

/** Sends raw handshake messages from a client as its plain stream's packets, bypassing the SDK's handshake. */
function rawHandshakeStream(client: RelayClient) {
  return client.openStream({ codec: createPlainCodec(), frameFormat: FRAME_FORMAT_PLAIN });
}

describe('establishSecureSession', () => {
  it('agrees on a verification code, then carries messages only in AES-256-GCM frames', async () => {
    const { relay, agent, expert, optionsFor } = await setUp();
    const received: string[] = [];
    agent.on('message', (message) => received.push(new TextDecoder().decode(message)));
    const [agentSession, expertSession] = await Promise.all([
      establishSecureSession(agent, optionsFor('agent')),
      // ... decomposed on the other: NFC makes them the same password.
      establishSecureSession(expert, optionsFor('expert', { invitationPassword: 'pa\u0308ssword' })),
    ]);
    expect(agentSession.verificationCode).toMatch(/^\d{6}$/);
    expect(expertSession.verificationCode).toBe(agentSession.verificationCode);

    await expert.sendText('secret plan');
    await until(() => received.length === 1, 'the message');
    expect(received).toEqual(['secret plan']);
    const frames = relay.requests.flatMap((request) => (request.action === 'frame' ? [Buffer.from(request.data, 'base64')] : []));
    expect(new Set(frames.map((frame) => frame[0]))).toEqual(new Set([FRAME_FORMAT_PLAIN, FRAME_FORMAT_AES_256_GCM]));
    expect(frames.some((frame) => frame.includes('secret plan'))).toBe(false);
  });

  it('refuses misuse: no session, a started session stream, a role or session id that is not the client’s, an empty secret', async () => {
    const { agent, optionsFor } = await setUp();
    const idle = createRelayClient({ url: 'ws://127.0.0.1:9', ...fastOptions });
    expect(() => establishSecureSession(idle, optionsFor('agent'))).toThrow('needs an established session');
    expect(() => establishSecureSession(agent, optionsFor('expert'))).toThrow(RangeError);
    expect(() => establishSecureSession(agent, optionsFor('agent', { sessionId: 'another' }))).toThrow(RangeError);
    expect(() => establishSecureSession(agent, optionsFor('agent', { handshakeTimeoutMs: -1 }))).toThrow(RangeError);
    expect(() => establishSecureSession(agent, optionsFor('agent', { secret: '' }))).toThrow('secret must not be empty');

    const { agent: automatic, optionsFor: automaticOptions } = await setUp({ sessionStream: undefined });
    expect(() => establishSecureSession(automatic, automaticOptions('agent'))).toThrow("sessionStream: 'manual'");
  });

  it('a wrong password: both sides confirmation-failed, both sessions ended, one guess counted by the agent only', async () => {
    const { agent, expert, ends, nameplate, sessionId, failedAttempts, optionsFor } = await setUp();
    const outcomes = await Promise.all([
      rejection(establishSecureSession(agent, optionsFor('agent'))),
      rejection(establishSecureSession(expert, optionsFor('expert', { invitationPassword: 'passw0rd' }))),
    ]);
    expect(outcomes).toEqual([
      { name: 'SecureSessionError', code: 'confirmation-failed' },
      { name: 'SecureSessionError', code: 'confirmation-failed' },
    ]);
    expect(failedAttempts).toEqual([{ code: 'confirmation-failed', nameplate, sessionId }]);
    expect(ends.agent?.reason).toMatch(/^ended-by-/);
    expect(ends.expert?.reason).toMatch(/^ended-by-/);
    await expect(agent.sendText('anything')).rejects.toThrow('no session stream yet');
  });

  it('the agent counts a failure only once its share is out: a malformed first message is not a guess', async () => {
    const { agent, expert, failedAttempts, optionsFor } = await setUp();
    const outcome = rejection(establishSecureSession(agent, optionsFor('agent')));
    await rawHandshakeStream(expert).send(new Uint8Array([1, 9, 9]));
    expect(await outcome).toEqual({ name: 'SecureSessionError', code: 'malformed-message' });
    expect(failedAttempts).toEqual([]);
  });

  it('an expert that goes silent after the commit: the agent times out, counts a guess and ends the session', async () => {
    const { agent, expert, ends, failedAttempts, optionsFor } = await setUp();
    const outcome = rejection(establishSecureSession(agent, optionsFor('agent', { handshakeTimeoutMs: 200, abortFlushMs: 50 })));
    const impostor = new Handshake({
      role: 'expert',
      password: passwordRelatedString(new TextEncoder().encode('guess')),
      relayOrigin: 'wss://relay.example.com',
      nameplate: 'x',
      sessionId: 'y',
    });
    await rawHandshakeStream(expert).send(impostor.start());
    expect(await outcome).toEqual({ name: 'SecureSessionError', code: 'timeout' });
    expect(failedAttempts.map((attempt) => attempt.code)).toEqual(['timeout']);
    await until(() => ends.expert !== undefined, 'the expert to hear the end');
    expect(ends.expert?.reason).toBe('ended-by-agent');
  });

  it('an agent that never answers: the expert times out and ends the session', async () => {
    const { agent, expert, ends, failedAttempts, optionsFor } = await setUp();
    const outcome = rejection(establishSecureSession(expert, optionsFor('expert', { handshakeTimeoutMs: 200, abortFlushMs: 50 })));
    expect(await outcome).toEqual({ name: 'SecureSessionError', code: 'timeout' });
    expect(failedAttempts).toEqual([]);
    await until(() => ends.agent !== undefined, 'the agent to hear the end');
    expect(ends.agent?.reason).toBe('ended-by-expert');
    expect(agent.session).toBeDefined();
  });

  it('the session ending mid-handshake rejects with session-ended', async () => {
    const { relay, expert, optionsFor } = await setUp();
    const outcome = rejection(establishSecureSession(expert, optionsFor('expert')));
    relay.endSessions('expired');
    expect(await outcome).toEqual({ name: 'SecureSessionError', code: 'session-ended' });
  });
});

// API Gateway delivers $disconnect on a best-effort basis: a connection can vanish without one. With the local
// runtime's chaos option that loses every $disconnect, the relay still frees seats and tells the peer: a
// post that answers 410 Gone (the frame path) or the sweeper, which asks @connections, finds the gone connection.
import { describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../shared/server/config/policy.js';
import type { ServerMessage } from '../../shared/core/messages.js';
import { useCleanups } from '../support/harness.js';
import { useLocalRuntime } from '../support/runtime.js';
import { frameOf, TestSocket } from '../support/ws-client.js';

type Created = Extract<ServerMessage, { type: 'sessionCreated' }>;
type Joined = Extract<ServerMessage, { type: 'sessionJoined' }>;

/** The handlers' clock: the tests move it past the sweeper's quiet threshold and the resume grace. */
let offsetMs = 0;
const runtime = useLocalRuntime({
  chaos: { seed: 15, maxDelayMs: 0, dropRate: 0, throttleRate: 0, meanDisconnectMs: 0, disconnectDropRate: 1 },
  // The tests sweep when they choose.
  sweepIntervalMs: 60 * 60 * 1000,
  clock: () => Date.now() + offsetMs,
});
const defer = useCleanups();

async function socket(): Promise<TestSocket> {
  const opened = await TestSocket.open(runtime().wsUrl);
  defer(() => opened.close());
  return opened;
}

/** Drops the connection without a close handshake and waits until the relay has handled (and lost) its $disconnect. */
async function vanish(client: TestSocket): Promise<void> {
  client.socket.terminate();
  await client.closed;
  await runtime().gateway.settle();
}

async function joined(): Promise<{ agent: TestSocket; expert: TestSocket; created: Created; joined: Joined }> {
  const agent = await socket();
  const created = (await agent.request({ action: 'createSession' })) as Created;
  const expert = await socket();
  const reply = (await expert.request({ action: 'joinSession', nameplate: created.nameplate })) as Joined;
  expect(reply.type).toBe('sessionJoined');
  expect(await agent.next()).toEqual({ type: 'peer', state: 'connected' });
  return { agent, expert, created, joined: reply };
}

async function approved() {
  const session = await joined();
  expect(await session.agent.request({ action: 'approveSession', mode: 'control' })).toMatchObject({ type: 'sessionActive' });
  expect(await session.expert.next()).toMatchObject({ type: 'sessionActive' });
  return session;
}

describe('lost $disconnect invocations', () => {
  it('a joiner that vanishes before approval keeps its seat until the sweeper asks @connections; then the invitation opens again', async () => {
    const { agent, expert, created } = await joined();
    await vanish(expert);

    // No $disconnect: the seat is still taken, and the creator was told nothing.
    const technician = await socket();
    expect(await technician.request({ action: 'joinSession', nameplate: created.nameplate })).toMatchObject({ type: 'error' });
    expect(agent.pending()).toEqual([]);

    await runtime().sweep();
    expect(await agent.next()).toEqual({ type: 'peer', state: 'left' });
    expect(await technician.request({ action: 'joinSession', nameplate: created.nameplate })).toMatchObject({ type: 'sessionJoined', role: 'expert' });
    expect(await agent.next()).toEqual({ type: 'peer', state: 'connected' });
  });

  it('after approval the peer’s next frame finds the gone connection (410): the sender is told, and the technician resumes', async () => {
    const { agent, expert, joined: expertJoined } = await approved();
    await vanish(expert);
    expect(agent.pending()).toEqual([]);

    agent.send(frameOf('anyone there?'));
    expect(await agent.next()).toEqual({ type: 'peer', state: 'disconnected' });

    const back = await socket();
    expect(await back.request({ action: 'resumeSession', sessionId: expertJoined.sessionId, resumeToken: expertJoined.resumeToken })).toMatchObject({
      type: 'sessionResumed',
      role: 'expert',
      peerConnected: true,
    });
    expect(await agent.next()).toEqual({ type: 'peer', state: 'connected' });
    agent.send(frameOf('welcome back'));
    const received = await back.next();
    expect(received.type === 'frame' && Buffer.from(received.data, 'base64').toString()).toBe('welcome back');
  });

  it('when nobody sends, the sweeper finds the gone participant of a quiet session, tells the peer, and ends the session after the grace', async () => {
    const { agent, expert } = await approved();
    await vanish(expert);
    // Traffic within the last quarter idle period would have found it; past that, the sweeper asks.
    offsetMs += (defaultPolicy.idleTimeoutSeconds / 4 + 61) * 1000;
    await runtime().sweep();
    expect(await agent.next()).toEqual({ type: 'peer', state: 'disconnected' });

    offsetMs += defaultPolicy.resumeGraceSeconds * 1000;
    await runtime().sweep();
    expect(await agent.next()).toEqual({ type: 'ended', reason: 'peer-gone' });
    await agent.closed;
  });
});

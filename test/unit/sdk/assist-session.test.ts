// Consent and control over the in-process relay (the real handlers on memory adapters): the agent's side enforces the rules (nothing of the
// agent's before approval, input only with control, nothing while paused), whatever the expert's
// side sends; the invitation survives departed and failed experts until it burns.
import { describe, expect, it } from 'vitest';
import type { InvitationKind, Role } from '../../../shared/core/messages.js';
import { encodeAssistMessage, type AssistMessage } from '../../../sdk/assist-messages.js';
import { AgentSession, CONTROL_REQUEST_TIMEOUT_MS, ExpertSession, type AssistSessionOptions } from '../../../sdk/assist-session.js';
import { ManualClock } from './support/manual-clock.js';
import type { RelayClient } from '../../../sdk/node.js';
import { record, utf8 } from '../../support/assist.js';
import { fastClientOptions, useCleanups, Watch } from '../../support/harness.js';
import { inProcessRelayWithClients } from '../../support/in-process-relay.js';
import { createPlainCodec } from '../../../sdk/codec.js';
import { FRAME_FORMAT_PLAIN } from '../../../shared/crypto/frame-codec.js';

const defer = useCleanups();
/** Woken by every event of the test's sessions and their clients: the waits below check again then, and never on a timer. */
const heard = new Watch();
const secret = 'VK4Q9T2M';
const relayOrigin = 'ws://127.0.0.1';

async function setUp(
  kind: InvitationKind = 'easy-connect',
  expertOptions: Pick<AssistSessionOptions, 'clock' | 'controlRequestTimeoutMs'> = {},
  agentOptions: Pick<AssistSessionOptions, 'clock'> = {},
) {
  const { relay, newClient } = await inProcessRelayWithClients(defer, { ...fastClientOptions, sessionStream: 'manual' });
  const names: Record<Role, string> = { agent: 'Ada Lovelace', expert: 'Grace Hopper' };
  const sessionFor = (client: RelayClient, password = 'correct') => {
    const options = { client, name: names[client.session!.role], secrets: { secret, invitationPassword: password, relayOrigin }, handshake: { abortFlushMs: 200 } };
    const session = client.session!.role === 'agent' ? new AgentSession({ ...options, ...agentOptions }) : new ExpertSession({ ...options, ...expertOptions });
    heard.hears(client, session);
    return session;
  };
  const creatorClient = newClient();
  const { nameplate } = await creatorClient.createSession({ kind });
  const creator = sessionFor(creatorClient);
  /** A joiner with its own client; `password` wrong to fail the handshake. */
  const join = async (password?: string) => {
    const client = newClient();
    await client.joinSession(nameplate);
    const session = sessionFor(client, password);
    return { client, session, seen: record(session) };
  };
  return { relay, creatorClient, creator, creatorSeen: record(creator), join, nameplate, newClient };
}

/**
 * A client of the previous release, seen from the wire: a version-1 commit first if `opens`, a
 * version-1 abort in answer to anything; a joiner leaves once the other side aborted too.
 */
function previousRelease(client: RelayClient, { opens }: { opens: boolean }) {
  const stream = client.openStream({ codec: createPlainCodec(), frameFormat: FRAME_FORMAT_PLAIN });
  if (opens) void stream.send(Uint8Array.of(1, 1, ...new Uint8Array(64)));
  let answered = false;
  stream.on('message', (message) => {
    if (message.length === 2 && message[1] === 5) {
      if (!client.isCreator) void client.end();
    } else if (!answered) {
      answered = true;
      void stream.send(Uint8Array.of(1, 5));
    }
  });
}

/** An agent (creator) and an expert through the handshake, the agent asked to decide. */
async function deciding(expertOptions?: Parameters<typeof setUp>[1], agentOptions?: Parameters<typeof setUp>[2]) {
  const setup = await setUp('easy-connect', expertOptions, agentOptions);
  const agent = setup.creator as AgentSession;
  const expert = await setup.join();
  await heard.until(() => agent.phase === 'deciding' && expert.session.phase === 'awaiting-approval', 'the expert to be presented');
  return { ...setup, agent, agentSeen: setup.creatorSeen, expert: expert.session as ExpertSession, expertClient: expert.client, expertSeen: expert.seen };
}

/** Sends a message from the expert's client directly, bypassing the ExpertSession's own checks. */
const sendRaw = (client: RelayClient, message: AssistMessage) => client.send(encodeAssistMessage(message));

describe('assistance sessions', () => {
  it('presents the expert by name and verification code, and sends nothing of the agent’s before approval', async () => {
    const { agent, agentSeen, expert, expertSeen, relay } = await deciding();
    expect(agent.expert).toEqual({ name: 'Grace Hopper', verificationCode: expert.verificationCode });
    expect(agentSeen.log).toEqual([`expert ${JSON.stringify(agent.expert)}`]);
    await heard.until(() => expertSeen.log.length === 2, 'the agent’s name');
    expect(expertSeen.log).toEqual([`verification {"code":"${expert.verificationCode}"}`, 'agent {"name":"Ada Lovelace"}']);

    expect(await agent.sendOutput(utf8('$ secret-command'))).toBe(false);
    await agent.sendResize(120, 40);
    await expect(agent.chat('hello?')).rejects.toThrow('cannot chat now');

    await agent.approve('view');
    expect(await agent.sendOutput(utf8('$ ls'))).toBe(true);
    await heard.until(() => expertSeen.log.includes('output $ ls'), 'the output');
    // The size remembered before approval goes out with it; the dropped output never does.
    // The first output starts the terminal share; its size goes with it.
    expect(expertSeen.log.slice(2)).toEqual(['approved {"mode":"view"}', 'terminal-share {"state":"started"}', 'resize {"cols":120,"rows":40}', 'output $ ls']);
    expect((await relay.audit()).map((entry) => `${entry.event}${entry.detail ? ` ${entry.detail}` : ''}`)).toContain('approved view');
  });

  it('drops input unless control is granted; grant, request and revoke travel to the expert and the audit log', async () => {
    const { agent, agentSeen, expert, expertClient, expertSeen, relay } = await deciding();
    await agent.approve('view');
    await heard.until(() => expert.phase === 'active', 'the approval');

    await agent.startTerminalShare();
    await heard.until(() => expert.terminalShared, 'the terminal share');
    expect(await expert.sendInput(utf8('rm -rf /'))).toBe(false); // the expert's side knows it may not type
    await sendRaw(expertClient, { type: 'input', bytes: utf8('rm -rf /') }); // and the agent drops it if it comes anyway
    await expert.requestControl();
    await expert.chat('may I type?');
    await heard.until(() => agentSeen.log.includes('chat may I type?'), 'the chat');
    expect(agentSeen.log.slice(1)).toEqual(['control-requested', 'chat may I type?']);

    await agent.grantControl();
    await heard.until(() => expert.hasControl, 'control');
    expect(await expert.sendInput(utf8('ls\r'))).toBe(true);
    await heard.until(() => agentSeen.log.includes('input ls\r'), 'the input');

    await agent.revokeControl();
    await sendRaw(expertClient, { type: 'input', bytes: utf8('after revoke') });
    await sendRaw(expertClient, { type: 'chat', text: 'marker' });
    await heard.until(() => agentSeen.log.includes('chat marker'), 'the marker');
    expect(agentSeen.log.filter((entry) => entry.startsWith('input'))).toEqual(['input ls\r']);
    expect(expertSeen.log.filter((entry) => entry.startsWith('control'))).toEqual(['control {"state":"granted"}', 'control {"state":"revoked"}']);
    expect((await relay.audit()).map((entry) => entry.event)).toEqual(expect.arrayContaining(['control-granted', 'control-revoked']));
  });

  it('a request for control with nothing to control is answered at once, without asking the person', async () => {
    const { agent, agentSeen, expert, expertSeen } = await deciding();
    await agent.approve('view');
    await heard.until(() => expert.phase === 'active', 'the approval');
    expect(expert.somethingToControl).toBe(false);
    await expert.requestControl();
    expect(expert.controlRequested).toBe(true);
    await heard.until(() => expertSeen.log.includes('control {"state":"nothing-to-control"}'), 'the answer');
    expect(expert.controlRequested).toBe(false);
    expect(expert.hasControl).toBe(false);
    expect(agentSeen.log).not.toContain('control-requested');
  });

  it('a request for control nobody answers is given up after a minute, and can be made again', async () => {
    const clock = new ManualClock();
    const { agent, agentSeen, expert, expertSeen } = await deciding({ clock });
    await agent.approve('view');
    await agent.startTerminalShare();
    await heard.until(() => expert.terminalShared, 'the terminal share');
    await expert.requestControl();
    await heard.until(() => agentSeen.log.includes('control-requested'), 'the request');
    expect(expertSeen.log.filter((entry) => entry.startsWith('control'))).toEqual([]);
    await clock.runNext();
    expect(clock.now()).toBe(CONTROL_REQUEST_TIMEOUT_MS);
    expect(expertSeen.log.filter((entry) => entry.startsWith('control'))).toEqual(['control {"state":"unanswered"}']);
    expect(expert.controlRequested).toBe(false);
    // Asked again, and answered this time: no second 'unanswered' follows.
    await expert.requestControl();
    await heard.until(() => agentSeen.log.filter((entry) => entry === 'control-requested').length === 2, 'the second request');
    await agent.grantControl();
    await heard.until(() => expert.hasControl, 'control');
    expect(await clock.runNext()).toBe(false);
    expect(expertSeen.log.filter((entry) => entry.startsWith('control'))).toEqual(['control {"state":"unanswered"}', 'control {"state":"granted"}']);
  });

  it('the person’s side warns both sides before the idle end, activity or a still-here puts it off, and it ends the session idle-timeout', async () => {
    const clock = new ManualClock();
    const { agent, agentSeen, expert, expertSeen, relay } = await deciding({}, { clock });
    const idleEvents = (log: string[]) => log.filter((entry) => entry.startsWith('idle'));
    await agent.approve('view');
    await heard.until(() => expert.phase === 'active', 'the approval');
    expect(agent.client.session!.idleTimeoutSeconds).toBe(900);

    // Nothing happens for 10 minutes: the 5-minute warning, on both sides.
    await clock.advance(600_000);
    expect(idleEvents(agentSeen.log)).toEqual(['idle-warning {"secondsLeft":300}']);
    await heard.until(() => idleEvents(expertSeen.log).length === 1, 'the warning at the technician’s side');
    expect(idleEvents(expertSeen.log)).toEqual(['idle-warning {"secondsLeft":300}']);
    expect(agent.idleWarned).toBe(true);

    // The technician says they are still there: the warning is over on both sides.
    await expert.stillHere();
    await heard.until(() => idleEvents(agentSeen.log).length === 2, 'the still-here');
    await heard.until(() => idleEvents(expertSeen.log).length === 2, 'the warning to be cleared');
    expect(idleEvents(expertSeen.log)[1]).toBe('idle-cleared');
    expect(agent.idleWarned).toBe(false);

    // Chat from the person counts too; heartbeats and pings do not (the stream's own, on another clock).
    await clock.advance(840_000);
    expect(idleEvents(agentSeen.log).slice(2)).toEqual(['idle-warning {"secondsLeft":300}', 'idle-warning {"secondsLeft":60}']);
    await expert.measureRoundTrip();
    expect(agent.idleWarned).toBe(true);
    await agent.chat('still thinking');
    expect(idleEvents(agentSeen.log).slice(4)).toEqual(['idle-cleared']);

    // Then nobody does anything: the end, for both, as idle-timeout, in the audit log too.
    await clock.advance(900_000);
    await heard.until(() => agentSeen.ended !== undefined && expertSeen.ended !== undefined, 'the idle end');
    expect(agentSeen.ended!.reason).toBe('idle-timeout');
    expect(expertSeen.ended!.reason).toBe('idle-timeout');
    expect((await relay.audit()).map((entry) => `${entry.event}${entry.detail ? ` ${entry.detail}` : ''}`)).toContain('ended idle-timeout');
    expect(await clock.runNext()).toBe(false);
  });

  it('only the person’s side sends idle warnings, and only the technician’s says still-here', async () => {
    for (const [from, message, expected] of [
      ['agent', { type: 'idle-warning', state: 'still-here' }, 'a still-here, which only the technician’s side sends'],
      ['expert', { type: 'idle-warning', state: 'warning', secondsLeft: 60 }, 'an idle warning, which only the person’s side sends'],
    ] as const) {
      const { agent, agentSeen, creatorClient, expert, expertClient, expertSeen } = await deciding();
      await agent.approve('view');
      await heard.until(() => expert.phase === 'active', 'the approval');
      await sendRaw(from === 'agent' ? creatorClient : expertClient, message);
      const receiver = from === 'agent' ? expertSeen : agentSeen;
      await heard.until(() => receiver.ended !== undefined, 'the end');
      expect(receiver.errors.map((error) => error.message)).toEqual([`the other side broke the assistance protocol: ${expected}`]);
    }
  });

  it('terminal output without a terminal share breaks the protocol', async () => {
    const { agent, client, expert, expertSeen } = await (async () => {
      const setup = await deciding();
      return { ...setup, client: setup.creatorClient };
    })();
    await agent.approve('view');
    await heard.until(() => expert.phase === 'active', 'the approval');
    await sendRaw(client, { type: 'output', bytes: utf8('unannounced') });
    await heard.until(() => expertSeen.ended !== undefined, 'the end');
    expect(expertSeen.errors.map((error) => error.message)).toEqual(['the other side broke the assistance protocol: terminal output without a terminal share']);
  });

  it('while paused, output and input are dropped and chat still flows; resume restores both', async () => {
    const { agent, agentSeen, expert, expertClient, expertSeen, relay } = await deciding();
    await agent.approve('control');
    await heard.until(() => expert.hasControl, 'control with the approval');

    await agent.pause();
    await heard.until(() => expert.paused, 'the pause');
    expect(await agent.sendOutput(utf8('password: hunter2'))).toBe(false);
    expect(await expert.sendInput(utf8('typed while paused'))).toBe(false);
    await sendRaw(expertClient, { type: 'input', bytes: utf8('forced while paused') });
    await expert.chat('take your time');
    await agent.chat('typing my password');
    await heard.until(() => agentSeen.log.includes('chat take your time') && expertSeen.log.includes('chat typing my password'), 'chat both ways');

    await agent.resume();
    await heard.until(() => !expert.paused, 'the resume');
    await agent.sendOutput(utf8('done'));
    await expert.sendInput(utf8('after resume'));
    await heard.until(() => expertSeen.log.includes('output done') && agentSeen.log.includes('input after resume'), 'traffic after resume');

    expect(expertSeen.log.filter((entry) => entry.startsWith('output'))).toEqual(['output done']);
    expect(agentSeen.log.filter((entry) => entry.startsWith('input'))).toEqual(['input after resume']);
    expect((await relay.audit()).map((entry) => entry.event)).toEqual(expect.arrayContaining(['paused', 'resumed']));
  });

  it('tells the expert how long the person has to answer; once approved, such a message breaks the protocol', async () => {
    const { agent, expert, expertSeen, agentSeen } = await deciding();
    await agent.asked(90);
    await heard.until(() => expertSeen.log.includes('asked {"seconds":90}'), 'the expert to hear the question');
    await agent.approve('view');
    await heard.until(() => expert.phase === 'active', 'the approval');
    await sendRaw(agent.client, { type: 'asked', seconds: 30 });
    await heard.until(() => expertSeen.ended !== undefined && agentSeen.ended !== undefined, 'the end');
    expect(expertSeen.ended?.reason).toBe('protocol-violation');
    expect(expertSeen.log.filter((entry) => entry.startsWith('asked'))).toEqual(['asked {"seconds":90}']);
  });

  it('deny tells the expert and ends the session for both with denied', async () => {
    const { agent, agentSeen, expertSeen } = await deciding();
    const end = await agent.deny();
    await heard.until(() => expertSeen.ended !== undefined, 'the expert’s end');
    expect(end.reason).toBe('denied');
    expect(agentSeen.ended?.reason).toBe('denied');
    expect(expertSeen.log).toContain('denied');
    expect(expertSeen.ended?.reason).toBe('denied');
  });

  it('an expert that leaves before approval reopens the invitation; the next one is presented', async () => {
    const { agent, agentSeen, expert, expertSeen, join } = await deciding();
    const left = await expert.leave();
    expect(left.reason).toBe('ended-by-expert');
    await heard.until(() => agent.phase === 'waiting' && agentSeen.log.includes('expert-left'), 'the agent to see the expert leave');
    expect(expertSeen.ended?.reason).toBe('ended-by-expert');

    const next = await join();
    await heard.until(() => agent.phase === 'deciding', 'the next expert');
    expect(agentSeen.log.filter((entry) => entry === 'expert-left')).toHaveLength(1);
    expect(agent.expert?.verificationCode).toBe((next.session as ExpertSession).verificationCode);
    expect(agentSeen.ended).toBeUndefined();
  });

  it('wrong passwords: each failure is reported to the agent, the expert ends with confirmation-failed, the third burns the invitation', async () => {
    const { creatorSeen, join } = await setUp();
    for (let attempt = 1; attempt <= 3; attempt++) {
      const { seen } = await join(`wrong ${attempt}`);
      await heard.until(() => seen.ended !== undefined, 'the expert’s end');
      expect(seen.ended).toMatchObject({ reason: attempt < 3 ? 'confirmation-failed' : 'burned', error: { name: 'SecureSessionError', code: 'confirmation-failed' } });
      await heard.until(() => creatorSeen.log.length === attempt, 'the report');
    }
    expect(creatorSeen.log).toEqual([1, 2, 3].map((n) => `attempt-failed {"failedAttempts":${n},"maxFailedAttempts":3,"burned":${n === 3}}`));
    await heard.until(() => creatorSeen.ended !== undefined, 'the agent’s end');
    expect(creatorSeen.ended?.reason).toBe('burned');
  });

  it('an expert of the previous release: the agent tells its user (peer-outdated) and stays open, counting nothing; the next expert gets in', async () => {
    const { creator, creatorSeen, join, nameplate, newClient, relay } = await setUp();
    const oldClient = newClient();
    await oldClient.joinSession(nameplate);
    previousRelease(oldClient, { opens: true });
    await heard.until(() => creatorSeen.errors.length > 0, 'the agent to tell its user');
    expect(creatorSeen.errors).toMatchObject([{ name: 'SecureSessionError', code: 'peer-outdated' }]);
    expect(creatorSeen.errors[0]!.message).toContain('older version of assist');

    const next = await join();
    await heard.until(() => (creator as AgentSession).phase === 'deciding' && next.session.phase === 'awaiting-approval', 'the next expert');
    expect(creatorSeen.log.filter((entry) => entry.startsWith('attempt-failed'))).toEqual([]);
    expect(relay.requests.filter((request) => request.action === 'reportFailedAttempt')).toEqual([]);
  });

  it('joining an agent of the previous release: the expert is told to have it updated and ends with handshake-failed', async () => {
    const { relay, newClient } = await inProcessRelayWithClients(defer, { ...fastClientOptions, sessionStream: 'manual' });
    const oldAgent = newClient();
    const { nameplate } = await oldAgent.createSession({ kind: 'easy-connect' });
    previousRelease(oldAgent, { opens: false });
    const client = newClient();
    await client.joinSession(nameplate);
    const expert = new ExpertSession({ client, name: 'Grace Hopper', secrets: { secret, invitationPassword: 'correct', relayOrigin }, handshake: { abortFlushMs: 200 } });
    heard.hears(client, expert);
    const seen = record(expert);
    await heard.until(() => seen.ended !== undefined, 'the expert’s end');
    expect(seen.ended).toMatchObject({ reason: 'handshake-failed', error: { name: 'SecureSessionError', code: 'peer-outdated' } });
    expect(seen.errors).toMatchObject([{ code: 'peer-outdated' }]);
    expect(relay.requests.filter((request) => request.action === 'reportFailedAttempt')).toEqual([]);
  });

  it('an expert sending what only the agent may send breaks the protocol: the session ends', async () => {
    const { agent, agentSeen, expertClient } = await deciding();
    await agent.approve('view');
    await sendRaw(expertClient, { type: 'output', bytes: utf8('fake prompt') });
    await heard.until(() => agentSeen.ended !== undefined, 'the end');
    expect(agentSeen.errors.map((error) => error.name)).toEqual(['AssistProtocolError']);
    expect(agentSeen.log.filter((entry) => entry.startsWith('output'))).toEqual([]);
  });

  it('helper code: the expert creates it, the person’s side joins, approves with control, and input flows', async () => {
    const { creator, creatorSeen, join } = await setUp('helper-code');
    const expert = creator as ExpertSession;
    const person = await join();
    const agent = person.session as AgentSession;
    await heard.until(() => agent.phase === 'deciding', 'the expert to be presented');
    expect(agent.expert).toEqual({ name: 'Grace Hopper', verificationCode: expert.verificationCode });

    await agent.approve('control');
    await heard.until(() => expert.hasControl, 'control');
    await expert.sendInput(utf8('whoami\r'));
    await heard.until(() => person.seen.log.includes('input whoami\r'), 'the input');
    expect(creatorSeen.log).toEqual([`verification {"code":"${expert.verificationCode}"}`, 'agent {"name":"Ada Lovelace"}', 'approved {"mode":"control"}']);

    await expert.leave();
    await heard.until(() => person.seen.ended !== undefined, 'the person’s end');
    expect(person.seen.ended?.reason).toBe('ended-by-expert');
  });

  it('a revoked invitation ends before anyone joined; revoke is refused once an expert is presented', async () => {
    const open = await setUp();
    expect((await (open.creator as AgentSession).revoke()).reason).toBe('revoked');

    const { agent } = await deciding();
    expect(() => agent.revoke()).toThrow('cannot revoke the invitation now');
  });
});

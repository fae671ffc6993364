// Every way an expert and a person find each other, end to end over the local runtime with real
// WebSockets: Easy Connect, invitation file + password, relay URL + password, helper code; relay
// discovery through /relay.json; failed attempts until the invitation burns; email; bad input.
import { describe, expect, it } from 'vitest';
import { CodeFormatError } from '../../shared/core/codes.js';
import { INVITATION_FILE_EXTENSION } from '../../shared/core/invitation-file.js';
import { acceptHelp, AssistSetupError, discoverRelay, joinHelp, offerHelp, requestHelp, type ExpertSession, type HelpRequest } from '../../sdk/node.js';
import { fastAssistOptions, record, utf8, type Recorded, whenRecorded } from '../support/assist.js';
import { useCleanups } from '../support/harness.js';
import { useLocalRuntime } from '../support/runtime.js';

// Many joins from one address: the rate limits are tested at the relay, not here.
const runtime = useLocalRuntime({ policy: { joinsPerSourceIp: 10_000, invitationsPerSourceIp: 10_000 } });
const defer = useCleanups();

const relay = () => runtime().httpUrl;

async function ask(kind: 'file' | 'easy-connect'): Promise<{ agent: HelpRequest; agentSeen: Recorded }> {
  const agent = await requestHelp({ relay: relay(), kind, name: 'Ada Lovelace', ...fastAssistOptions });
  defer(() => agent.client.close());
  return { agent, agentSeen: record(agent) };
}

async function join(options: { invitation: string; password?: string; relay?: string; name?: string }) {
  const expert = await joinHelp({ name: 'Grace Hopper', ...fastAssistOptions, ...options });
  defer(() => expert.client.close());
  return { expert, expertSeen: record(expert) };
}

/** Through the handshake, approved in `mode`, and one message each way proves the channel. */
async function approveAndTalk(agent: HelpRequest | Awaited<ReturnType<typeof acceptHelp>>, expert: ExpertSession, expertSeen: Recorded, agentSeen: Recorded) {
  await whenRecorded(() => agent.phase === 'deciding', 'the expert to be presented');
  expect(agent.expert).toEqual({ name: 'Grace Hopper', verificationCode: expert.verificationCode });
  expect(expert.verificationCode).toMatch(/^\d{6}$/);
  await agent.approve('control');
  await whenRecorded(() => expert.hasControl, 'the approval');
  await agent.sendOutput(utf8('$ '));
  await expert.sendInput(utf8('uptime\r'));
  await whenRecorded(() => expertSeen.log.includes('output $ ') && agentSeen.log.includes('input uptime\r'), 'traffic both ways');
}

describe('assistance over the relay: every way in', () => {
  it('discovers the WebSocket URL from the relay’s HTTPS URL', async () => {
    expect(await discoverRelay(relay())).toEqual({ webSocketUrl: runtime().wsUrl, httpUrl: relay() });
  });

  it('Easy Connect: the expert types the password read out to it (any case, spaces) and gets in once approved', async () => {
    const { agent, agentSeen } = await ask('easy-connect');
    expect(agent.invitation).toMatchObject({ kind: 'easy-connect', password: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}$/) });
    expect(agent.invitation.expiresAt.getTime()).toBeGreaterThan(Date.now());
    const typed = agent.invitation.password.toLowerCase().replace(/-/g, ' ');
    const { expert, expertSeen } = await join({ invitation: typed, relay: relay() });
    await approveAndTalk(agent, expert, expertSeen, agentSeen);
    expect(expertSeen.log.slice(0, 3)).toEqual([`verification {"code":"${expert.verificationCode}"}`, 'agent {"name":"Ada Lovelace"}', 'approved {"mode":"control"}']);
  });

  it('invitation file + password: the file names the relay, the password is told separately', async () => {
    const { agent, agentSeen } = await ask('file');
    const invitation = agent.invitation;
    if (invitation.kind !== 'file') throw new Error('expected a file invitation');
    expect(invitation.fileName.endsWith(INVITATION_FILE_EXTENSION)).toBe(true);
    expect(invitation.password).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(invitation.file).not.toContain(invitation.password.replace('-', ''));
    expect(JSON.parse(invitation.file)).toMatchObject({ relay: { webSocketUrl: runtime().wsUrl, httpUrl: relay() }, requester: 'Ada Lovelace' });

    const { expert, expertSeen } = await join({ invitation: invitation.file, password: invitation.password.toLowerCase() });
    await approveAndTalk(agent, expert, expertSeen, agentSeen);
  });

  it('relay URL + password: the secret rides in the #fragment, the relay is found from the link', async () => {
    const { agent, agentSeen } = await ask('file');
    const invitation = agent.invitation;
    if (invitation.kind !== 'file') throw new Error('expected a file invitation');
    expect(invitation.relayUrl.startsWith(`${relay()}/join/`)).toBe(true);

    const { expert, expertSeen } = await join({ invitation: invitation.relayUrl, password: invitation.password });
    await approveAndTalk(agent, expert, expertSeen, agentSeen);
  });

  it('helper code: the expert offers, the person types the code and approves', async () => {
    const offer = await offerHelp({ relay: relay(), name: 'Grace Hopper', ...fastAssistOptions });
    defer(() => offer.client.close());
    const expertSeen = record(offer);
    expect(offer.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}$/);
    expect(offer.phase).toBe('connecting');

    const person = await acceptHelp({ relay: relay(), code: offer.code, name: 'Ada Lovelace', ...fastAssistOptions });
    defer(() => person.client.close());
    await approveAndTalk(person, offer, expertSeen, record(person));
  });

  it('a wrong password three times: each failed attempt reaches the person, each expert is turned away, the third burns the invitation', async () => {
    const { agent, agentSeen } = await ask('file');
    const invitation = agent.invitation;
    if (invitation.kind !== 'file') throw new Error('expected a file invitation');
    const wrong = ['AAAA-AAAA', 'BBBB-BBBB', 'CCCC-CCCC', 'DDDD-DDDD'].filter((password) => password !== invitation.password);
    for (const [index, password] of wrong.slice(0, 3).entries()) {
      const { expertSeen } = await join({ invitation: invitation.file, password });
      await whenRecorded(() => expertSeen.ended !== undefined && agentSeen.log.length === index + 1, 'the attempt to fail and be reported');
      expect(expertSeen.ended).toMatchObject({ reason: index < 2 ? 'confirmation-failed' : 'burned', error: { code: 'confirmation-failed' } });
      expect(expertSeen.log).toEqual([]); // no verification code, no name, nothing of the person's
    }
    expect(agentSeen.log).toEqual([1, 2, 3].map((n) => `attempt-failed {"failedAttempts":${n},"maxFailedAttempts":3,"burned":${n === 3}}`));
    await whenRecorded(() => agentSeen.ended !== undefined, 'the invitation to burn');
    expect(agentSeen.ended?.reason).toBe('burned');
    await expect(join({ invitation: invitation.file, password: invitation.password })).rejects.toMatchObject({ name: 'RelayError' });
  });

  it('emails a file invitation through the relay, without the password', async () => {
    const { agent } = await ask('file');
    const invitation = agent.invitation;
    if (invitation.kind !== 'file') throw new Error('expected a file invitation');
    expect(await agent.emailInvitation('grace@example.org')).toEqual({ to: 'grace@example.org' });
    const [sent] = await runtime().outbox.messages();
    expect(sent).toMatchObject({ to: 'grace@example.org' });
    const raw = await (await fetch(`${relay()}${sent!.url}`)).text();
    expect(raw).not.toContain(invitation.password);
    expect(raw).not.toContain(invitation.password.replace('-', ''));

    const easy = await ask('easy-connect');
    await expect(easy.agent.emailInvitation('grace@example.org')).rejects.toThrow('only file invitations');
  });

  it('refuses unusable input with typed errors before anything is joined', async () => {
    const { agent } = await ask('file');
    const invitation = agent.invitation;
    if (invitation.kind !== 'file') throw new Error('expected a file invitation');
    await expect(join({ invitation: invitation.relayUrl })).rejects.toMatchObject({ name: 'AssistSetupError', code: 'password-required' });
    await expect(join({ invitation: invitation.relayUrl.split('#')[0]!, password: invitation.password })).rejects.toMatchObject({ code: 'incomplete-link' });
    await expect(join({ invitation: 'ABCD-EFGH-JKMN' })).rejects.toMatchObject({ code: 'relay-required' });
    await expect(join({ invitation: 'ABCD-EFGH-JKM', relay: relay() })).rejects.toBeInstanceOf(CodeFormatError);
    await expect(join({ invitation: 'ABCD-EFGH-JKMN', relay: relay(), name: 'Eve\u001b[2J' })).rejects.toMatchObject({ code: 'invalid-name' });
    await expect(join({ invitation: 'ABCD-EFGH-JKMN', relay: `${relay()}/nowhere` })).rejects.toMatchObject({ code: 'relay-unreachable' });
    await expect(requestHelp({ relay: runtime().wsUrl, kind: 'file', name: 'Ada' })).rejects.toBeInstanceOf(AssistSetupError);
    // Nobody got in: the invitation is still open.
    expect(agent.phase).toBe('waiting');
  });
});

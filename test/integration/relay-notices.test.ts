// Relay notices that contradict the end-to-end session change nothing the user sees (issue 14): a
// relay cannot make the agent believe it approved, nor make an approved expert "leave".
import { describe, expect, it } from 'vitest';
import { joinHelp, requestHelp } from '../../sdk/node.js';
import { fastAssistOptions, record, whenRecorded } from '../support/assist.js';
import { useCleanups } from '../support/harness.js';
import { useLocalRuntime } from '../support/runtime.js';
import { injectToClient, RecordingTap } from '../support/secure-pair.js';

const tap = new RecordingTap();
const runtime = useLocalRuntime({ tap });
const defer = useCleanups();

describe('relay notices the end-to-end session never said', () => {
  it('an unasked sessionActive does not activate the agent; a peer "left" after approval does not end or reopen anything', async () => {
    const agent = await requestHelp({ relay: runtime().httpUrl, kind: 'easy-connect', name: 'Ada Lovelace', ...fastAssistOptions });
    defer(() => agent.client.close());
    const agentSeen = record(agent);
    const expert = await joinHelp({ invitation: agent.invitation.password, relay: runtime().httpUrl, name: 'Grace Hopper', ...fastAssistOptions });
    defer(() => expert.client.close());
    const expertSeen = record(expert);
    await whenRecorded(() => agent.phase === 'deciding', 'the expert to be presented');
    const agentConnection = tap.connectionOf(agent.client.session!.sessionId, 'agent');

    // The relay says the session is active; the agent never approved.
    await injectToClient(runtime(), agentConnection, { type: 'sessionActive', mode: 'control', expiresAt: Math.floor(Date.now() / 1000) + 3600 });
    // A marker after it (notices arrive in order): once it is in, so is the lie.
    const errors: Error[] = [];
    agent.client.on('error', (error) => errors.push(error));
    await injectToClient(runtime(), agentConnection, { type: 'error', code: 'internal', message: 'marker' });
    await whenRecorded(() => errors.some((error) => error.message === 'marker'), 'the marker');
    expect(agent.client.activation).toBeUndefined();
    expect(agent.phase).toBe('deciding');

    await agent.approve('control');
    await whenRecorded(() => expert.hasControl, 'the approval');

    // The relay says the expert left; it is still there, and the session goes on.
    await injectToClient(runtime(), agentConnection, { type: 'peer', state: 'left' });
    await expert.chat('still here');
    await whenRecorded(() => agentSeen.log.includes('chat still here'), 'the chat');
    expect(agent.phase).toBe('active');
    expect(agentSeen.log).not.toContain('expert-left');
    expect(agentSeen.ended).toBeUndefined();
    expect(expertSeen.ended).toBeUndefined();
  });
});

// A side that reloads or crashes comes back into the same approved session from the snapshot it
// persisted, without a new approval, with chaos on (reordered, dropped and throttled posts, dropped
// connections): the same keys and sequence numbers, so nothing is lost, duplicated or reordered.
import { describe, expect, it } from 'vitest';
import {
  decodeAssistSnapshot,
  encodeAssistSnapshot,
  joinHelp,
  requestHelp,
  restoreAssistSession,
  SessionRestoreError,
  type AgentSession,
  type ExpertSession,
} from '../../sdk/node.js';
import { fastAssistOptions, hear, record, utf8, whenRecorded } from '../support/assist.js';
import { useCleanups } from '../support/harness.js';
import { useLocalRuntime } from '../support/runtime.js';
import { ManualClock } from '../unit/sdk/support/manual-clock.js';

const runtime = useLocalRuntime({
  chaos: { seed: 20261203, maxDelayMs: 4, dropRate: 0.02, throttleRate: 0.01, meanDisconnectMs: 3000 },
  policy: { joinsPerSourceIp: 10_000, invitationsPerSourceIp: 10_000 },
  limits: { messagesPerSecond: 1e6, messageBurst: 1e6 },
});
// Ending is confirmed by the relay's notice, which chaos may drop; the refusal test needs the end to have happened.
const calmRuntime = useLocalRuntime({ policy: { joinsPerSourceIp: 10_000, invitationsPerSourceIp: 10_000 } });
const defer = useCleanups();
const clientOptions = { ...fastAssistOptions.clientOptions, reconnect: { initialDelayMs: 10, maxDelayMs: 200, maxAttempts: 50 } };
const options = { ...fastAssistOptions, clientOptions };

/** What a console tab or an assist process keeps: the latest snapshot, as text. */
function store(session: AgentSession | ExpertSession) {
  const kept = { text: undefined as string | undefined, saves: 0 };
  session.persistWith((snapshot) => {
    kept.text = encodeAssistSnapshot(snapshot);
    kept.saves++;
  });
  return kept;
}

async function approvedPair(relay = runtime().httpUrl, agentClock?: ManualClock) {
  const agent = await requestHelp({ relay, kind: 'easy-connect', name: 'Ada Lovelace', ...options, clock: agentClock });
  defer(() => agent.client.close());
  hear(agent);
  if (agent.invitation.kind !== 'easy-connect') throw new Error('expected Easy Connect');
  const expert = await joinHelp({ relay, invitation: agent.invitation.password, name: 'Grace Hopper', ...options });
  defer(() => expert.client.close());
  hear(expert);
  const agentKept = store(agent);
  const expertKept = store(expert);
  await whenRecorded(() => agent.phase === 'deciding', 'the expert to be presented');
  // Nothing is kept before approval: a reload then starts over with a new invitation.
  expect([agentKept.saves, expertKept.saves]).toEqual([0, 0]);
  await agent.approve('control');
  await whenRecorded(() => expert.phase === 'active', 'the approval to reach the expert');
  return { agent, expert, agentKept, expertKept };
}

async function restore(text: string) {
  const session = await restoreAssistSession(decodeAssistSnapshot(text), { clientOptions });
  defer(() => session.client.close());
  hear(session);
  return session;
}

const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, index) => `line ${from + index}\n`).join('');

describe('resuming an approved session after a reload or a crash', () => {
  it('an idle warning survives the expert’s restart, and the person’s restart ends it', async () => {
    const clock = new ManualClock();
    const { agent, expert, expertKept, agentKept } = await approvedPair(calmRuntime().httpUrl, clock);
    await clock.advance(600_000);
    await whenRecorded(() => expert.idleWarned, 'the warning');
    // The expert's process dies and comes back: it is told again, with the time left now.
    expert.client.close();
    const restoredExpert = (await restore(expertKept.text!)) as ExpertSession;
    const expertSeen = record(restoredExpert);
    await whenRecorded(() => restoredExpert.idleWarned, 'the warning again');
    expect(expertSeen.log).toEqual(['idle-warning {"secondsLeft":300}']);
    // The person's side restarts: that counts as activity, and the expert's warning is over.
    agent.client.close();
    const restoredAgent = (await restore(agentKept.text!)) as AgentSession;
    expect(restoredAgent.idleWarned).toBe(false);
    await whenRecorded(() => !restoredExpert.idleWarned, 'the warning to be over');
    expect(expertSeen.log).toEqual(['idle-warning {"secondsLeft":300}', 'idle-cleared']);
  });

  it('the expert crashes mid-output and comes back: the output continues once and in order, control still works', async () => {
    const { agent, expert, expertKept } = await approvedPair();
    const agentSeen = record(agent);
    let output = '';
    expert.on('output', (bytes) => (output += new TextDecoder().decode(bytes)));

    for (let line = 0; line < 150; line++) await agent.sendOutput(utf8(`line ${line}\n`));
    await whenRecorded(() => output.length > 200, 'some output to arrive');
    // The process dies: no goodbye, whatever was in flight is lost with it.
    expert.client.close();
    const restored = (await restore(expertKept.text!)) as ExpertSession;
    restored.on('output', (bytes) => (output += new TextDecoder().decode(bytes)));
    expect(restored.phase).toBe('active');
    expect(restored.agentName).toBe('Ada Lovelace');
    expect(restored.hasControl).toBe(true);

    for (let line = 150; line < 300; line++) await agent.sendOutput(utf8(`line ${line}\n`));
    await whenRecorded(() => output.endsWith('line 299\n'), 'all output');
    expect(output).toBe(lines(0, 300));

    expect(await restored.sendInput(utf8('ls\r'))).toBe(true);
    await whenRecorded(() => agentSeen.log.includes('input ls\r'), 'input from the restored expert');
    await restored.chat('back');
    await whenRecorded(() => agentSeen.log.includes('chat back'), 'chat from the restored expert');
    expect(agentSeen.log).not.toContain('expert-left');
  });

  it('the person crashes while the expert types: each keystroke arrives once; a share is not restarted but said to have stopped', async () => {
    const { agent, expert, agentKept } = await approvedPair();
    const expertSeen = record(expert);
    await agent.startScreenShare();
    await agent.allowClipboard(true);
    await whenRecorded(() => expertSeen.log.includes('screen-share {"state":"started"}') && expert.clipboardAllowed, 'the share and the clipboard');
    let input = '';
    agent.on('input', (bytes) => (input += new TextDecoder().decode(bytes)));

    for (let key = 0; key < 100; key++) await expert.sendInput(utf8(`k${key};`));
    await whenRecorded(() => input.length > 50, 'some input to arrive');
    agent.client.close();
    const restored = (await restore(agentKept.text!)) as AgentSession;
    restored.on('input', (bytes) => (input += new TextDecoder().decode(bytes)));
    expect([restored.phase, restored.controlGranted, restored.expert?.name]).toEqual(['active', true, 'Grace Hopper']);

    for (let key = 100; key < 200; key++) await expert.sendInput(utf8(`k${key};`));
    await whenRecorded(() => input.endsWith('k199;'), 'all input');
    expect(input).toBe(Array.from({ length: 200 }, (_, key) => `k${key};`).join(''));
    await whenRecorded(() => expertSeen.log.includes('screen-share {"state":"stopped","reason":"restarted"}'), 'the share to be said stopped');
    expect(restored.sharingScreen).toBe(false);
    // Nor is the clipboard: its reader was the crashed process's; the person allows it again.
    await whenRecorded(() => !expert.clipboardAllowed, 'the clipboard to be said no longer shared');
    expect(restored.clipboardAllowed).toBe(false);

    await restored.sendOutput(utf8('still here'));
    await whenRecorded(() => expertSeen.log.includes('output still here'), 'output from the restored person');
    const end = await restored.end();
    expect(end.reason).toBe('ended-by-agent');
  });

  it('a snapshot of a session that has ended since is refused with the reason (no chaos)', async () => {
    const { agent, expert, expertKept } = await approvedPair(calmRuntime().httpUrl);
    expert.client.close();
    await agent.end();
    const refused = await restore(expertKept.text!).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SessionRestoreError);
    expect((refused as SessionRestoreError).end.reason).toBe('ended-by-agent');
  });
});

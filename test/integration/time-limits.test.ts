// The session's hard limit over the local runtime: the person extends it (audited, up to the cap
// counted from the approval), the technician learns the new limit, nobody else may move it, and
// both sides' watchers warn before it; an extension survives a reconnect.
import { describe, expect, it } from 'vitest';
import { joinHelp, requestHelp, RelayError, watchTimeLimit } from '../../sdk/node.js';
import { fastAssistOptions, hear, whenRecorded } from '../support/assist.js';
import { useCleanups } from '../support/harness.js';
import { useLocalRuntime } from '../support/runtime.js';
import { ManualClock } from '../unit/sdk/support/manual-clock.js';

const SESSION_TTL = 600;
const MAX_SESSION_TTL = 1000;
const runtime = useLocalRuntime({ policy: { joinsPerSourceIp: 10_000, invitationsPerSourceIp: 10_000, sessionTtlSeconds: SESSION_TTL, maxSessionTtlSeconds: MAX_SESSION_TTL } });
const defer = useCleanups();

async function approved() {
  const agent = await requestHelp({ relay: runtime().httpUrl, kind: 'easy-connect', name: 'Ada Lovelace', ...fastAssistOptions });
  defer(() => agent.client.close());
  hear(agent);
  if (agent.invitation.kind !== 'easy-connect') throw new Error('expected Easy Connect');
  const others = new Set(runtime().gateway.connectionIds());
  const expert = await joinHelp({ relay: runtime().httpUrl, invitation: agent.invitation.password, name: 'Grace Hopper', ...fastAssistOptions });
  defer(() => expert.client.close());
  hear(expert);
  const expertConnections = runtime().gateway.connectionIds().filter((id) => !others.has(id));
  await whenRecorded(() => agent.phase === 'deciding', 'the expert to be presented');
  const refusedBefore = await agent.client.extendSession(60).catch((error: unknown) => error);
  await agent.approve('view');
  await whenRecorded(() => expert.phase === 'active', 'the approval');
  /** Closes the technician's connection as the relay would: its client reconnects and resumes. */
  const dropExpert = () => {
    for (const id of expertConnections) runtime().gateway.manageConnection('DELETE', `/live/@connections/${encodeURIComponent(id)}`, new Uint8Array());
  };
  return { agent, expert, refusedBefore, dropExpert };
}

describe('extending a session', () => {
  it('the person adds time up to the cap from the approval; the technician is told; it is audited; the technician cannot', async () => {
    const { agent, expert, refusedBefore } = await approved();
    expect(refusedBefore).toBeInstanceOf(RelayError);
    expect((refusedBefore as RelayError).code).toBe('invalid-state');
    const approvedLimit = agent.client.activation!.expiresAt;
    expect(expert.client.activation!.expiresAt).toBe(approvedLimit);
    const told: number[] = [];
    expert.client.on('extended', ({ expiresAt }) => told.push(expiresAt));

    const first = await agent.extend(300);
    expect(first.expiresAt).toBe(approvedLimit + 300);
    // The cap counts from the approval: approval + MAX_SESSION_TTL.
    expect(first.maxExpiresAt).toBe(approvedLimit - SESSION_TTL + MAX_SESSION_TTL);
    await whenRecorded(() => told.length === 1, 'the technician to learn the new limit');
    expect(told).toEqual([approvedLimit + 300]);
    expect(expert.client.activation!.expiresAt).toBe(approvedLimit + 300);

    // Beyond the cap: capped; at the cap: nothing moves, and nobody is told again.
    expect((await agent.extend()).expiresAt).toBe(first.maxExpiresAt);
    expect(await agent.extend()).toEqual({ expiresAt: first.maxExpiresAt, maxExpiresAt: first.maxExpiresAt });
    await whenRecorded(() => told.length === 2, 'the capped limit');

    const refused = await expert.client.extendSession(60).catch((error: unknown) => error);
    expect((refused as RelayError).code).toBe('wrong-role');

    const audit = await agent.audit();
    expect(audit.filter((entry) => entry.event === 'extended').map((entry) => [entry.role, entry.detail])).toEqual([
      ['agent', String(approvedLimit + 300)],
      ['agent', String(first.maxExpiresAt)],
    ]);
    expect(told).toEqual([approvedLimit + 300, first.maxExpiresAt]);
  });

  it('an extension made while the technician was away is learned on resume', async () => {
    const { agent, expert, dropExpert } = await approved();
    const told: number[] = [];
    expert.client.on('extended', ({ expiresAt }) => told.push(expiresAt));
    let reconnected = false;
    expert.client.on('reconnected', () => (reconnected = true));
    // The technician's connection drops; the person extends meanwhile.
    dropExpert();
    await agent.extend(120);
    await whenRecorded(() => told.length >= 1, 'the new limit after the resume');
    expect(expert.client.activation!.expiresAt).toBe(agent.client.activation!.expiresAt);
    expect(reconnected).toBe(true);
  });
});

describe('warnings before the hard limit', () => {
  it('come 5 and 1 minutes before it, again after the limit moves, on a clock the test drives', async () => {
    const { agent } = await approved();
    // The watcher's wall clock (epoch ms) and its timers move together, on the manual clock.
    const clock = new ManualClock();
    const startedAt = Date.now();
    const seen: string[] = [];
    watchTimeLimit(
      agent.client,
      { limit: ({ expiresAt }) => seen.push(`limit ${expiresAt}`), warning: ({ secondsLeft }) => seen.push(`warning ${secondsLeft}`) },
      { now: () => startedAt + clock.now(), clock },
    );
    const limit = agent.client.activation!.expiresAt;
    expect(seen).toEqual([`limit ${limit}`]);
    const advanceTo = (epochMs: number) => clock.advance(epochMs - (startedAt + clock.now()));
    await advanceTo((limit - 300) * 1000);
    expect(seen.at(-1)).toBe('warning 300');
    await agent.extend(600);
    expect(seen.at(-1)).toBe(`limit ${limit + 400}`);
    await advanceTo((limit - 60) * 1000);
    expect(seen.filter((entry) => entry.startsWith('warning'))).toEqual(['warning 300']);
    await advanceTo((limit + 400 - 60) * 1000);
    expect(seen.filter((entry) => entry.startsWith('warning'))).toEqual(['warning 300', 'warning 300', 'warning 60']);
  });
});

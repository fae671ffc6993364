// The enrolled device's agent against the local runtime, with API Gateway's idle limit and 2-hour cap
// shrunk to seconds: it signs in with its key over a one-time challenge, heartbeats keep an idle
// connection, it renews before the cap (and reconnects when the cap closes it first), it backs off while
// the relay is down and comes online when it is back, and a removed device or a wrong key is refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../infra/local/runtime.js';
import { createDeviceAgent, enrolDevice, generateDeviceKeyPair, type DeviceAgent, type DeviceAgentEvents, type DeviceAgentTuning } from '../../sdk/node.js';
import { Watch } from '../support/harness.js';
import { auditLog, jsonLines, newEnrolmentToken, operator } from '../support/operator.js';
import type { AuditEvent } from '../../shared/core/messages.js';
import { TestSocket } from '../support/ws-client.js';

const running: Array<{ close(): unknown }> = [];
/** Woken by every event of the test's agents and every message a relay is sent: the waits below check again then. */
const heard = new Watch();
afterEach(async () => {
  for (const thing of running.splice(0).reverse()) await thing.close();
});

/** A runtime that counts the device messages it is sent. */
async function relay(options: LocalRuntimeOptions = {}) {
  const seen: string[] = [];
  const runtime = await startLocalRuntime({
    port: 0,
    ...options,
    tap: {
      fromClient: (_connection, body) => {
        seen.push((JSON.parse(body) as { action?: string }).action ?? '');
        heard.changed();
        return body;
      },
    },
  });
  running.push(runtime);
  return { runtime, count: (action: string) => seen.filter((seenAction) => seenAction === action).length };
}

async function enrolled(runtime: LocalRuntime, name = 'Reception PC') {
  const { token } = await newEnrolmentToken(runtime.dynamoEndpoint, 'Finance laptops');
  const keys = await generateDeviceKeyPair();
  const device = await enrolDevice({ relay: runtime.httpUrl, token, publicKey: keys.publicKey, name, os: 'linux' });
  return { deviceId: device.deviceId, privateKey: keys.privateKey, webSocketUrl: runtime.wsUrl };
}

/** An agent whose events are kept in order. */
function agentFor(identity: { deviceId: string; privateKey: string; webSocketUrl: string }, tuning: Partial<DeviceAgentTuning>) {
  const events: Array<{ event: keyof DeviceAgentEvents } & Record<string, unknown>> = [];
  const agent: DeviceAgent = createDeviceAgent({ identity, tuning, random: () => 1 });
  for (const event of ['online', 'offline', 'stopped'] as const) agent.on(event, (detail) => events.push({ event, ...detail }));
  heard.hears(agent);
  running.push({ close: () => agent.stop() });
  agent.start();
  const count = (event: keyof DeviceAgentEvents) => events.filter((seen) => seen.event === event).length;
  return { agent, events, count };
}

/** The sign-in rows `npm run audit-log -- --device WHICH` lists, oldest first. */
async function signInAudit(runtime: LocalRuntime, which: string) {
  const listed = await auditLog('--local', runtime.dynamoEndpoint, '--device', which, '--json');
  expect(listed.status, listed.stderr).toBe(0);
  return jsonLines(listed.stdout)
    .flatMap((log) => log.events as AuditEvent[])
    .filter((event) => event.event.startsWith('device-sign'))
    .sort((a, b) => a.at - b.at);
}

describe('the device agent', () => {
  it('signs in, and its heartbeats keep the connection past the idle limit', async () => {
    const { runtime, count } = await relay({ limits: { idleTimeoutMs: 1500 } });
    const agent = agentFor(await enrolled(runtime), { heartbeatMs: 300 });
    await heard.until(() => agent.count('online') === 1, 'the agent is online');
    // Three idle periods' worth of heartbeats on the one connection.
    await heard.until(() => count('deviceHeartbeat') >= 15, 'heartbeats');
    expect(agent.events).toEqual([expect.objectContaining({ event: 'online', name: 'Reception PC', group: 'Finance laptops', renewal: false })]);
    expect(count('signInDevice')).toBe(1);
    const listed = await operator(runtime.dynamoEndpoint, 'devices', '--json');
    expect(listed.stdout).toContain('"lastSeenAt"');
  });

  it('renews its connection before the cap, and reconnects when the cap comes first', async () => {
    const { runtime, count } = await relay({ limits: { maxConnectionMs: 4000 } });
    const renewing = agentFor(await enrolled(runtime, 'Renewing PC'), { renewAfterMs: 1000 });
    await heard.until(() => renewing.count('online') >= 4, 'three renewals');
    expect(renewing.events.slice(0, 4).map((seen) => [seen.event, seen.renewal])).toEqual([
      ['online', false],
      ['online', true],
      ['online', true],
      ['online', true],
    ]);

    const capped = agentFor(await enrolled(runtime, 'Capped PC'), { renewAfterMs: 60_000 });
    await heard.until(() => capped.count('online') >= 2, 'back online after the cap');
    expect(capped.events.slice(0, 3).map((seen) => seen.event)).toEqual(['online', 'offline', 'online']);
    expect(capped.events[1]).toMatchObject({ delayMs: 0 });
    expect(count('signInDevice')).toBeGreaterThanOrEqual(6);
  });

  it('backs off while the relay is down, and comes online once it is up again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'assist-agent-'));
    running.push({ close: () => rmSync(dataDir, { recursive: true, force: true }) });
    const port = await freePort();
    const { runtime: before } = await relay({ port, dataDir });
    const identity = await enrolled(before);
    await before.close();
    running.splice(running.indexOf(before), 1);

    const agent = agentFor(identity, { initialBackoffMs: 100, maxBackoffMs: 400 });
    await heard.until(() => agent.count('offline') >= 5, 'five failed attempts');
    // At once, then doubling up to the ceiling (jitter pinned to its top).
    expect(agent.events.slice(0, 5).map((seen) => seen.delayMs)).toEqual([0, 100, 200, 400, 400]);
    await relay({ port, dataDir });
    await heard.until(() => agent.count('online') === 1, 'online once the relay is back');
  });

  it('a removed device is refused at once: its connection closed, its agent stopped, no sign-in again', async () => {
    const { runtime } = await relay();
    const identity = await enrolled(runtime);
    const agent = agentFor(identity, { initialBackoffMs: 50 });
    await heard.until(() => agent.count('online') === 1, 'online');
    const removed = await operator(runtime.dynamoEndpoint, 'device', 'remove', identity.deviceId, '--connections', `${runtime.internalUrl}/local`);
    expect(removed.stdout).toContain('its connection is closed');
    await heard.until(() => agent.count('stopped') === 1, 'stopped');
    expect(agent.events.at(-1)).toMatchObject({ event: 'stopped', code: 'device-not-enrolled' });

    const again = agentFor(identity, {});
    await heard.until(() => again.count('stopped') === 1, 'refused');
    expect(again.events).toEqual([expect.objectContaining({ event: 'stopped', code: 'device-not-enrolled' })]);

    // The relay audited each: the sign-in, and the refusals after the removal (the closed agent's attempt to sign in
    // again, and the new agent's), found by the removed device's name.
    const refused = expect.objectContaining({ event: 'device-sign-in-refused', deviceId: identity.deviceId, detail: 'not-enrolled', sourceIp: expect.any(String) });
    expect(await signInAudit(runtime, 'Reception PC')).toEqual([
      expect.objectContaining({ event: 'device-signed-in', deviceId: identity.deviceId, deviceName: 'Reception PC', detail: 'Finance laptops', sourceIp: expect.any(String) }),
      refused,
      refused,
    ]);
  });

  it('a key that is not the enrolled one is refused, and a challenge is good once', async () => {
    const { runtime } = await relay();
    const identity = await enrolled(runtime);
    const other = await generateDeviceKeyPair();
    const impostor = agentFor({ ...identity, privateKey: other.privateKey }, {});
    await heard.until(() => impostor.count('stopped') === 1, 'refused');
    expect(impostor.events).toEqual([expect.objectContaining({ event: 'stopped', code: 'device-sign-in-failed', message: expect.stringContaining('does not match') })]);

    const socket = await TestSocket.open(runtime.wsUrl);
    running.push(socket);
    const signature = 'A'.repeat(86);
    const noChallenge = await socket.request({ action: 'signInDevice', deviceId: identity.deviceId, signature });
    expect(noChallenge).toMatchObject({ type: 'error', code: 'device-sign-in-failed', message: expect.stringContaining('no sign-in challenge is open') });
    await socket.request({ action: 'requestDeviceChallenge' });
    expect(await socket.request({ action: 'signInDevice', deviceId: identity.deviceId, signature })).toMatchObject({ code: 'device-sign-in-failed', message: expect.stringContaining('does not match') });
    expect(await socket.request({ action: 'signInDevice', deviceId: identity.deviceId, signature })).toMatchObject({ code: 'device-sign-in-failed', message: expect.stringContaining('no sign-in challenge is open') });
    expect(await socket.request({ action: 'deviceHeartbeat', deviceId: identity.deviceId })).toMatchObject({ code: 'device-signed-in-elsewhere' });

    // Audited: the two wrong keys (the one without a challenge was no attempt); a device id nobody enrolled too.
    await socket.request({ action: 'requestDeviceChallenge' });
    const unknown = 'Unknown0device0id0000A';
    expect(await socket.request({ action: 'signInDevice', deviceId: unknown, signature })).toMatchObject({ code: 'device-not-enrolled' });
    const wrongKey = expect.objectContaining({ event: 'device-sign-in-refused', deviceId: identity.deviceId, deviceName: 'Reception PC', detail: 'wrong-key' });
    expect(await signInAudit(runtime, identity.deviceId)).toEqual([wrongKey, wrongKey]);
    expect(await signInAudit(runtime, unknown)).toEqual([expect.objectContaining({ event: 'device-sign-in-refused', deviceId: unknown, detail: 'not-enrolled' })]);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

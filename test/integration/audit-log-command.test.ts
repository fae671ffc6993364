// `npm run audit-log -- --local URL` as the README gives it (issue 13): no --table needed for the
// local runtime's database, sessions newest first, each with its invitation's nameplate.
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../shared/core/messages.js';
import { useCleanups } from '../support/harness.js';
import { auditLog } from '../support/operator.js';
import { useLocalRuntime } from '../support/runtime.js';
import { TestSocket } from '../support/ws-client.js';

// Audit times are whole seconds of the handlers' clock: the test steps it instead of waiting.
let now = Date.now();
const runtime = useLocalRuntime({ clock: () => now });
const defer = useCleanups();


async function invite(kind: string): Promise<Extract<ServerMessage, { type: 'sessionCreated' }>> {
  const creator = await TestSocket.open(runtime().wsUrl);
  defer(() => creator.close());
  return (await creator.request({ action: 'createSession', kind })) as Extract<ServerMessage, { type: 'sessionCreated' }>;
}

describe('npm run audit-log -- --local URL', () => {
  it('lists the local runtime’s sessions newest first, each with its nameplate', async () => {
    const older = await invite('easy-connect');
    now += 60_000; // the second session a minute later
    const newer = await invite('file');

    const text = await auditLog('--local', runtime().dynamoEndpoint);
    expect(text.stderr).toBe('');
    expect(text.status).toBe(0);
    const headers = text.stdout.split('\n').filter((line) => line.startsWith('session '));
    expect(headers).toEqual([`session ${newer.sessionId}  nameplate ${newer.nameplate}`, `session ${older.sessionId}  nameplate ${older.nameplate}`]);
    expect(text.stdout).toMatch(/created\s+agent\s+\S+ file/);

    const json = await auditLog('--local', runtime().dynamoEndpoint, '--json');
    expect(json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { sessionId: string; nameplate: string })).toMatchObject([
      { sessionId: newer.sessionId, nameplate: newer.nameplate },
      { sessionId: older.sessionId, nameplate: older.nameplate },
    ]);
  });

  it('shows an extension as the time the session was extended to', async () => {
    const created = await invite('easy-connect');
    const expert = await TestSocket.open(runtime().wsUrl);
    defer(() => expert.close());
    await expert.request({ action: 'joinSession', nameplate: created.nameplate });
    const agent = await TestSocket.open(runtime().wsUrl);
    defer(() => agent.close());
    await agent.request({ action: 'resumeSession', sessionId: created.sessionId, resumeToken: created.resumeToken });
    await agent.request({ action: 'approveSession', mode: 'view' });
    const extended = (await agent.request({ action: 'extendSession', seconds: 600 })) as Extract<ServerMessage, { type: 'sessionExtended' }>;
    const text = await auditLog('--local', runtime().dynamoEndpoint, '--session', created.sessionId);
    expect(text.stdout).toMatch(new RegExp(`extended\\s+agent\\s+\\S+ until ${new Date(extended.expiresAt * 1000).toISOString()}`));
  });

  it('the relay’s own address instead of its database, or nothing there, each gets a sentence saying what --local takes', async () => {
    const relay = await auditLog('--local', runtime().httpUrl);
    expect(relay.status).toBe(1);
    expect(relay.stderr.trim()).toMatch(/^error: http:\/\/127\.0\.0\.1:\d+ answered, but not as a database \(HTTP \d+\): --local takes the URL npm start prints as "Database", not the relay's own address$/);
    const nothing = await auditLog('--local', 'http://127.0.0.1:1');
    expect(nothing.status).toBe(1);
    expect(nothing.stderr.trim()).toBe('error: nothing answers at http://127.0.0.1:1: is npm start running? --local takes the URL it prints as "Database"');
  });

  it('without --table or --local says which to give', async () => {
    const result = await auditLog();
    expect(result.status).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe("error: say which table: --table NAME (the stack's TableName output), or --local URL for npm start's database");
  });
});

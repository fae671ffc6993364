import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../sdk/clock.js';
import { RelayConnection, RelayConnectionError, type WebSocketConstructor } from '../../sdk/connection.js';
import { createRelayClient } from '../../sdk/node.js';
import { useLocalRuntime } from '../support/runtime.js';

// What API Gateway itself does to a client (not the relay's code), reproduced by the local gateway, and
// what the SDK makes of it: a typed error with a sentence, or a throttled request sent again.

const runtime = useLocalRuntime({ limits: { messagesPerSecond: 4, messageBurst: 2 } });

const open = (url: string, closed: (cause: Error) => void = () => {}) =>
  RelayConnection.open(WebSocket as unknown as WebSocketConstructor, url, { notice() {}, malformed() {}, closed }, {
    clock: systemClock,
    requestTimeoutMs: 10_000,
  });

describe('API Gateway’s own answers, as the SDK reports them', () => {
  it('a wrong stage path: the upgrade’s 403 becomes connection-refused, saying what the path must be', async () => {
    const wrongPath = new URL('/live', runtime().wsUrl).href;
    const refused = await open(wrongPath).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RelayConnectionError);
    expect(refused).toMatchObject({ code: 'connection-refused', message: expect.stringMatching(/HTTP 403.*path is the stage.*\/local for npm start/) });
  });

  it('a frame over 32 KB: the 1009 close becomes message-too-large', async () => {
    let closedBy: Error | undefined;
    const connection = await open(runtime().wsUrl, (cause) => (closedBy = cause));
    connection.send({ action: 'frame', data: 'A'.repeat(40_000) });
    await expect.poll(() => closedBy).toBeInstanceOf(RelayConnectionError);
    expect(closedBy).toMatchObject({ code: 'message-too-large', message: expect.stringContaining('32 KB per WebSocket frame') });
  });

  it('throttled requests are sent again with backoff until they get through, instead of waiting for an answer that never comes', async () => {
    // Every waiting request competes for four tokens a second: give them retries enough to all get through.
    const agent = createRelayClient({ url: runtime().wsUrl, requestTimeoutMs: 60_000, throttleRetry: { initialDelayMs: 100, maxDelayMs: 400, maxRetries: 30 } });
    await agent.createSession();
    // Two tokens a burst and four a second: most of these are throttled at first.
    const logs = await Promise.all(Array.from({ length: 5 }, () => agent.listAudit()));
    expect(logs.every((log) => Array.isArray(log))).toBe(true);
    expect(agent.stats.throttled).toBeGreaterThan(0);
    agent.close();
  });

  it('a client that paces its sends under the stage throttle waits its turn instead of being throttled', async () => {
    // A little under the stage's 4 a second, burst 2: the client's and the gateway's buckets run on different
    // clocks, and a message read late at the gateway must not find it short of a token.
    const agent = createRelayClient({ url: runtime().wsUrl, requestTimeoutMs: 60_000, pacing: { messagesPerSecond: 3, burst: 1 } });
    await agent.createSession();
    const logs = await Promise.all(Array.from({ length: 5 }, () => agent.listAudit()));
    expect(logs.every((log) => Array.isArray(log))).toBe(true);
    expect(agent.stats.paced).toBeGreaterThan(0);
    expect(agent.stats.throttled).toBe(0);
    agent.close();
  });

  it('a request still throttled after its retries fails with a typed error, not a hang', async () => {
    const agent = createRelayClient({ url: runtime().wsUrl, throttleRetry: { initialDelayMs: 20, maxDelayMs: 20, maxRetries: 0 } });
    await agent.createSession();
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => agent.listAudit()));
    const refusals = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    expect(refusals.length).toBeGreaterThan(0);
    for (const refusal of refusals) {
      expect(refusal).toBeInstanceOf(RelayConnectionError);
      expect(refusal).toMatchObject({ code: 'throttled', message: expect.stringMatching(/too busy to take listAudit.*try again/) });
    }
    agent.close();
  });
});

// API Gateway's own "Internal server error" (a route's function failed or timed out) names no message.
// The SDK fails a request that then gets no answer of its own with a typed error and a sentence, instead
// of waiting out its request timeout and dropping the connection.
import { describe, expect, it } from 'vitest';
import type { GatewayTap } from '../../infra/local/gateway.js';
import { createRelayClient, RelayConnectionError } from '../../sdk/node.js';
import { useCleanups } from '../support/harness.js';
import { useLocalRuntime } from '../support/runtime.js';

/** Turns the next reply of the armed type into API Gateway's failure message, as a failed integration would. */
class FailingTap implements GatewayTap {
  failNext: string | undefined;
  toClient = (connectionId: string, body: string): string | null => {
    if (this.failNext === undefined || !body.startsWith(`{"type":"${this.failNext}"`)) return body;
    this.failNext = undefined;
    return JSON.stringify({ message: 'Internal server error', connectionId, requestId: 'test-request' });
  };
}

const tap = new FailingTap();
const runtime = useLocalRuntime({ tap });
const defer = useCleanups();

describe('API Gateway’s "Internal server error"', () => {
  it('fails the request that got no answer with relay-failed; the connection stays and the next request works', async () => {
    // A request timeout far beyond the test's: only the failure message can end this request in time.
    const agent = createRelayClient({ url: runtime().wsUrl, requestTimeoutMs: 50_000 });
    defer(() => agent.close());
    await agent.createSession();
    tap.failNext = 'auditLog';
    const failed = await agent.listAudit().catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(RelayConnectionError);
    expect(failed).toMatchObject({ code: 'relay-failed', message: expect.stringMatching(/failed to handle listAudit.*Internal server error.*try again/) });
    expect(agent.stats.reconnects).toBe(0);
    expect(await agent.listAudit()).toEqual(expect.arrayContaining([expect.objectContaining({ event: 'created' })]));
  });
});

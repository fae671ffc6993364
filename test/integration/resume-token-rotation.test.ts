// Resume tokens rotate on every resume (issue 14 item 7). The reply carrying the new token can be lost
// (chaos drops posts; a connection can drop before it is read): the client then tries again with the
// token it has, which the relay still accepts because its successor was never used.
import { describe, expect, it } from 'vitest';
import { createRelayClient } from '../../sdk/node.js';
import type { GatewayTap } from '../../infra/local/gateway.js';
import { fastClientOptions, nextEvent, useCleanups, when } from '../support/harness.js';
import { useLocalRuntime } from '../support/runtime.js';

/** Drops the next `sessionResumed` reply when armed, as a lossy network or relay would. */
class LosingTap implements GatewayTap {
  loseNextResumeReply = false;
  resumeReplies = 0;
  joinerConnection: string | undefined;
  fromClient = (_connectionId: string, body: string) => body;
  toClient = (connectionId: string, body: string): string | null => {
    if (body.includes('"type":"sessionJoined"')) this.joinerConnection = connectionId;
    if (!body.includes('"type":"sessionResumed"')) return body;
    this.resumeReplies++;
    if (!this.loseNextResumeReply) return body;
    this.loseNextResumeReply = false;
    return null;
  };
}

const tap = new LosingTap();
const runtime = useLocalRuntime({ tap });
const defer = useCleanups();

describe('resume token rotation', () => {
  it('a lost sessionResumed reply does not end the session: the retry with the same token is accepted and rotates again', async () => {
    const options = { url: runtime().wsUrl, ...fastClientOptions, requestTimeoutMs: 500 };
    const agent = createRelayClient(options);
    const expert = createRelayClient(options);
    defer(() => agent.close());
    defer(() => expert.close());
    const { nameplate } = await agent.createSession();
    const firstToken = (await expert.joinSession(nameplate)).resumeToken;
    await agent.approveSession('control');
    const received: string[] = [];
    agent.on('message', (bytes) => received.push(new TextDecoder().decode(bytes)));

    tap.loseNextResumeReply = true;
    const before = tap.resumeReplies;
    // The relay drops the expert's connection (as API Gateway does at its 2-hour limit).
    expect(runtime().gateway.manageConnection('DELETE', `/local/@connections/${encodeURIComponent(tap.joinerConnection!)}`, new Uint8Array()).status).toBe(204);
    await when(expert, 'reconnected', () => expert.stats.reconnects === 1);
    expect(tap.resumeReplies - before).toBe(2); // the first reply lost, the retry answered
    expect(expert.session!.resumeToken).not.toBe(firstToken);

    const arrived = nextEvent(agent, 'message');
    await expert.sendText('still here');
    await arrived;
    expect(received).toContain('still here');
    expect(expert.activation).toBeDefined();
  });
});

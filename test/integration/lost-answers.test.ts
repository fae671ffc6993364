// A connection can drop after the relay acted on a request but before its answer arrived (API Gateway
// and chaos both do this). The client must not fail the user's action for it: it asks again on a new
// connection when asking twice is safe (creating and joining, before any seat is kept; approving,
// which the relay answers alike twice).
import { describe, expect, it } from 'vitest';
import type { GatewayTap } from '../../infra/local/gateway.js';
import { createRelayClient } from '../../sdk/node.js';
import { fastClientOptions, useCleanups, when } from '../support/harness.js';
import { useLocalRuntime } from '../support/runtime.js';

/** Drops the connection instead of delivering the next reply of the armed type, once. */
class AnswerLosingTap implements GatewayTap {
  loseNext: string | undefined;
  /** Only on this connection, if set. */
  loseOn: string | undefined;
  lost = 0;
  /** Every reply and notice of a type, by connection, as the relay sent them. */
  readonly sent: { connectionId: string; type: string }[] = [];
  drop: (connectionId: string) => void = () => {};
  toClient = (connectionId: string, body: string): string | null => {
    const type = (JSON.parse(body) as { type: string }).type;
    this.sent.push({ connectionId, type });
    if (type !== this.loseNext || (this.loseOn && connectionId !== this.loseOn)) return body;
    this.loseNext = undefined;
    this.loseOn = undefined;
    this.lost++;
    queueMicrotask(() => this.drop(connectionId));
    return null;
  };
}

const tap = new AnswerLosingTap();
const runtime = useLocalRuntime({ tap, policy: { joinsPerSourceIp: 10_000, invitationsPerSourceIp: 10_000 } });
tap.drop = (connectionId) => runtime().gateway.manageConnection('DELETE', `/local/@connections/${encodeURIComponent(connectionId)}`, new Uint8Array());
const defer = useCleanups();

function client() {
  const relay = createRelayClient({ url: runtime().wsUrl, ...fastClientOptions });
  defer(() => relay.close());
  return relay;
}

describe('answers lost with the connection', () => {
  it('creating and joining are asked again on a new connection, and the session works', async () => {
    const agent = client();
    const expert = client();
    tap.loseNext = 'sessionCreated';
    const { nameplate } = await agent.createSession();
    expect(tap.lost).toBe(1);
    expect(tap.sent.filter(({ type }) => type === 'sessionCreated')).toHaveLength(2);

    tap.loseNext = 'sessionJoined';
    await expert.joinSession(nameplate);
    expect(tap.lost).toBe(2);
    // The first join's seat went with its connection: the second join took it, and the agent sees the expert.
    await when(agent, 'peer', () => agent.peerConnected);
    await agent.approveSession('view');
    await when(expert, 'active', () => expert.activation?.mode === 'view');
  });

  it('an approval whose answer was lost is sent again and answered alike; the expert is told once', async () => {
    const agent = client();
    const expert = client();
    const { nameplate } = await agent.createSession();
    await expert.joinSession(nameplate);
    const agentConnection = tap.sent.findLast(({ type }) => type === 'sessionCreated')!.connectionId;
    const expertConnection = tap.sent.findLast(({ type }) => type === 'sessionJoined')!.connectionId;
    tap.loseNext = 'sessionActive';
    tap.loseOn = agentConnection;
    const activation = await agent.approveSession('control');

    expect(activation.mode).toBe('control');
    expect(agent.stats.reconnects).toBe(1);
    await when(expert, 'active', () => expert.activation !== undefined);
    expect(expert.activation).toEqual(activation);
    expect(tap.sent.filter(({ connectionId, type }) => connectionId === expertConnection && type === 'sessionActive')).toHaveLength(1);
  });
});

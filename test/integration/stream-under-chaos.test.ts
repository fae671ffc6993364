import { describe, expect, it } from 'vitest';
import { createRelayClient, type RelayClient } from '../../sdk/node.js';
import { seededRandom } from '../../infra/local/chaos.js';
import { useLocalRuntime } from '../support/runtime.js';

const MESSAGE_COUNT = 10_000;
const LARGEST = 300 * 1024;

/** Mostly small messages (chat, keystrokes, terminal updates) and a tail of large ones (bursts of output). */
function sizeOf(index: number): number {
  if (index === 0) return 1;
  if (index === 1) return LARGEST;
  const random = seededRandom(index * 7919);
  const logUniform = (low: number, high: number) => Math.round(Math.exp(Math.log(low) + random() * (Math.log(high) - Math.log(low))));
  return random() < 0.9 ? logUniform(1, 4096) : logUniform(4096, LARGEST);
}

/** Message `index`: its index in the first 4 bytes (when it fits) and bytes only it has. */
function messageFor(index: number): Uint8Array {
  const bytes = new Uint8Array(sizeOf(index));
  const random = seededRandom(index + 1);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (random() * 256) | 0;
  if (bytes.length >= 4) new DataView(bytes.buffer).setUint32(0, index);
  return bytes;
}

const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i]);

const runtime = useLocalRuntime({
  // On top of always-concurrent invocations: reordering delays, lost and throttled posts, and
  // connections dropped every few seconds on average.
  chaos: { seed: 20261120, maxDelayMs: 4, dropRate: 0.02, throttleRate: 0.01, meanDisconnectMs: 4000 },
  // The limits as deployed. The sender keeps more messages in flight than one connection's 100 concurrent
  // invocations take (Lambda's concurrency, emulated per connection) while posts back up, so some frames and
  // requests get API Gateway's "Too Many Requests"; the stream resends frames, the connection requests. The
  // stage's rate and burst are not what refuses them: the client paces under those (sdk/pacer.ts; in a run,
  // stats.paced stays 0 while stats.throttled is in the thousands).
});

function client(): RelayClient {
  return createRelayClient({
    url: runtime().wsUrl,
    reconnect: { initialDelayMs: 20, maxDelayMs: 500, maxAttempts: 50 },
  });
}

describe('ordered, reliable stream through the relay under chaos', () => {
  it(`delivers ${MESSAGE_COUNT} messages of 1 B to 300 KB complete, once and in order, across forced reconnects`, async () => {
    const agent = client();
    const expert = client();
    const { nameplate } = await agent.createSession();
    await expert.joinSession(nameplate);
    // Consent happens inside the encrypted channel in real use; this test only needs the relay's limits lifted.
    await agent.approveSession('control');

    let expectedIndex = 0;
    const mismatches: number[] = [];
    const allArrived = new Promise<void>((resolve) => {
      expert.on('message', (message) => {
        if (!equalBytes(message, messageFor(expectedIndex))) mismatches.push(expectedIndex);
        expectedIndex++;
        if (expectedIndex === MESSAGE_COUNT) resolve();
      });
    });
    const replies: string[] = [];
    agent.on('message', (message) => replies.push(new TextDecoder().decode(message)));

    for (let index = 0; index < MESSAGE_COUNT; index++) {
      await agent.send(messageFor(index));
      if (index % 1000 === 0) await expert.sendText(`ack ${index}`);
    }
    await allArrived;

    expect(mismatches).toEqual([]);
    expect(expectedIndex).toBe(MESSAGE_COUNT);
    const reconnects = agent.stats.reconnects + expert.stats.reconnects;
    expect(reconnects).toBeGreaterThan(0);

    const [agentEnd, expertEnd] = await Promise.all([
      agent.end(),
      new Promise<{ reason: string; peerClosed: boolean }>((resolve) => expert.on('ended', resolve)),
    ]);
    expect(agentEnd.delivered).toBe(true);
    expect(expertEnd).toMatchObject({ reason: 'ended-by-agent', peerClosed: true });
    expect(replies).toEqual(Array.from({ length: MESSAGE_COUNT / 1000 }, (_, i) => `ack ${i * 1000}`));
    console.log(`chaos run: ${reconnects} reconnects, agent stats ${JSON.stringify(agent.stats)}`);
  }, 300_000);
});

// The local gateway's resources are bounded (issue 14), as API Gateway's are: a client that never
// reads and a client that floods cannot grow the relay, and an unrelated session keeps working.
import type { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../shared/core/messages.js';
import { until } from '../support/harness.js';
import { useLocalRuntime } from '../support/runtime.js';
import { frameOf, TestSocket } from '../support/ws-client.js';

const MAX_BUFFERED_BYTES = 1024 * 1024;
const runtime = useLocalRuntime({ limits: { maxBufferedBytes: MAX_BUFFERED_BYTES, messagesPerSecond: 200, messageBurst: 100, maxConcurrentInvocations: 20 }, policy: { joinsPerSourceIp: 10_000 } });

type Created = Extract<ServerMessage, { type: 'sessionCreated' }>;

/** An approved pair of raw sockets: frames of any size flow both ways. */
async function approvedPair() {
  const agent = await TestSocket.open(runtime().wsUrl);
  const created = (await agent.request({ action: 'createSession' })) as Created;
  const expert = await TestSocket.open(runtime().wsUrl);
  expect(await expert.request({ action: 'joinSession', nameplate: created.nameplate })).toMatchObject({ type: 'sessionJoined' });
  expect(await agent.next()).toEqual({ type: 'peer', state: 'connected' });
  expect(await agent.request({ action: 'approveSession', mode: 'view' })).toMatchObject({ type: 'sessionActive' });
  expect(await expert.next()).toMatchObject({ type: 'sessionActive' });
  return { agent, expert };
}

/** Stops reading: the kernel's buffers fill, then everything sent to it waits in the relay. */
const stopReading = (socket: TestSocket) => (socket.socket as unknown as { _socket: Socket })._socket.pause();

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** What this process holds on to (after a full collection): the relay's buffers are Buffers, so external memory. */
function retainedBytes(): number {
  collectGarbage();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

const FRAME = frameOf('x'.repeat(22_000)); // ~29 KB of base64: just under the 32 KB frame
const FRAME_BYTES = JSON.stringify(FRAME).length;

describe('bounded resources in the local gateway', () => {
  it('a non-reading client and a flooding one: the relay holds at most its buffer cap, an unrelated session works, memory returns', async () => {
    const { agent: reader, expert: flooder } = await approvedPair();
    const unrelated = await approvedPair();
    stopReading(reader);
    const retainedBefore = retainedBytes();

    // 200 MB towards a client that reads nothing, as fast as the socket takes it.
    const flood = 7_000;
    let peakBuffered = 0;
    let peakRetained = 0;
    for (let n = 0; n < flood; n++) {
      // As fast as the relay reads, no faster: the flooder lives in this process too, and its own queue is not the relay's.
      while (flooder.socket.bufferedAmount > MAX_BUFFERED_BYTES) await new Promise((resolve) => setImmediate(resolve));
      flooder.send(FRAME);
      if (n % 100 === 0) peakBuffered = Math.max(peakBuffered, runtime().gateway.bufferedBytes);
      if (n % 1000 === 999) peakRetained = Math.max(peakRetained, retainedBytes());
    }
    await until(() => flooder.socket.bufferedAmount === 0, 'the flood to reach the relay');
    await runtime().gateway.settle();

    // Meanwhile and after, the unrelated session works.
    unrelated.agent.send(frameOf('still here'));
    const received = await unrelated.expert.next();
    expect(received.type === 'frame' && Buffer.from(received.data, 'base64').toString()).toBe('still here');

    peakBuffered = Math.max(peakBuffered, runtime().gateway.bufferedBytes);
    peakRetained = Math.max(peakRetained, retainedBytes());
    // The reader's buffer is capped; the flooder is told it is throttled (it reads), so its own stays small.
    expect(peakBuffered).toBeLessThanOrEqual(2 * (MAX_BUFFERED_BYTES + FRAME_BYTES));
    // 200 MB were sent; what the relay (this process) holds on to grew by a few MB, not by what was sent.
    const growthMb = (peakRetained - retainedBefore) / 2 ** 20;
    console.log(`flood: peak relay buffer ${(peakBuffered / 2 ** 20).toFixed(2)} MB, retained growth ${growthMb.toFixed(1)} MB`);
    expect(growthMb).toBeLessThan(48);
    expect(flooder.pending().some((message) => (message as { message?: string }).message === 'Too Many Requests')).toBe(true);

    // Memory returns after the connections close.
    const open = runtime().gateway.connectionCount;
    reader.socket.terminate();
    flooder.close();
    await until(() => runtime().gateway.connectionCount === open - 2, 'both connections to close');
    expect(runtime().gateway.bufferedBytes).toBeLessThan(FRAME_BYTES);
    unrelated.agent.close();
    unrelated.expert.close();
  });

  it('posts to a client whose buffer is full answer LimitExceededException (429), as API Gateway does', async () => {
    const { agent: reader, expert } = await approvedPair();
    const readerId = runtime().gateway.connectionIds().at(-2)!; // connections are listed as they opened: agent, then expert
    stopReading(reader);
    const post = () => fetch(`${runtime().internalUrl}/local/@connections/${encodeURIComponent(readerId)}`, { method: 'POST', body: JSON.stringify({ type: 'frame', data: FRAME.data }) });
    let response = await post();
    let posts = 1;
    while (response.status === 200 && posts < 2_000) {
      response = await post();
      posts++;
    }
    expect(response.status).toBe(429);
    expect(response.headers.get('x-amzn-errortype')).toBe('LimitExceededException');
    expect(posts).toBeGreaterThan(MAX_BUFFERED_BYTES / FRAME_BYTES); // the cap, plus what the kernel took
    expect(runtime().gateway.bufferedBytes).toBeLessThanOrEqual(MAX_BUFFERED_BYTES + FRAME_BYTES);
    reader.socket.terminate();
    expert.close();
  });

});

describe('the per-connection message throttle', () => {
  // One message a second after a burst of 10, and no concurrency bound in the way.
  const throttled = useLocalRuntime({ limits: { messagesPerSecond: 1, messageBurst: 10, maxConcurrentInvocations: 1_000 } });

  it('drops what a client sends beyond the burst and tells it Too Many Requests, one answer per message', async () => {
    const socket = await TestSocket.open(throttled().wsUrl);
    const sent = 50;
    for (let n = 0; n < sent; n++) socket.send({ action: 'listAudit' });
    const replies: Array<ServerMessage | { message?: string }> = [];
    for (let n = 0; n < sent; n++) replies.push(await socket.next());
    const tooMany = replies.filter((reply) => 'message' in reply && reply.message === 'Too Many Requests').length;
    const answered = replies.filter((reply) => 'type' in reply && reply.type === 'error' && reply.code === 'not-in-session').length;
    expect(tooMany + answered).toBe(sent);
    expect(answered).toBeGreaterThanOrEqual(10);
    expect(answered).toBeLessThanOrEqual(11); // the burst, and at most one more if a second passed
    socket.close();
  });
});

// ReliableStream, one mechanism at a time: frames are captured and delivered by hand on a simulated clock.
import { describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES } from '../../../shared/core/messages.js';
import { createPlainCodec, MAX_BODY_BYTES, SEAL_OVERHEAD_BYTES, type FrameCodec, type Space } from '../../../sdk/codec.js';
import { DATA_HEADER_BYTES, PacketFormatError, decodeAck, decodeDataPacket, encodeAck, encodeDataPacket, type AckPacket } from '../../../sdk/packets.js';
import { ReliableStream, type ReliableStreamOptions } from '../../../sdk/stream.js';
import { LossyLink } from './support/lossy-link.js';
import { ManualClock, settle } from './support/manual-clock.js';
import { fingerprint, patternedMessage } from './support/random.js';
import { createTaggedCodec } from './support/test-codecs.js';

const MAX_CHUNK = MAX_BODY_BYTES - DATA_HEADER_BYTES;
const plain = createPlainCodec();

interface Endpoint {
  stream: ReliableStream;
  /** Every frame the stream handed to its transport, in order. */
  sent: Uint8Array[];
  received: Uint8Array[];
  events: string[];
  errors: Error[];
}

/** The timings these tests work out assume a 25 ms ack delay (the default was 25 ms when they were written). */
function endpoint(clock: ManualClock, options: Partial<ReliableStreamOptions> = {}): Endpoint {
  const sent: Uint8Array[] = [];
  const stream = new ReliableStream({ sendFrame: (frame) => sent.push(frame), clock, ackDelayMs: 25, ...options });
  const received: Uint8Array[] = [];
  const events: string[] = [];
  const errors: Error[] = [];
  stream.on('message', (message) => {
    received.push(message);
    events.push('message');
  });
  stream.on('close', () => events.push('close'));
  stream.on('error', (error) => errors.push(error));
  return { stream, sent, received, events, errors };
}

async function deliver(to: Endpoint, frames: Uint8Array[]): Promise<void> {
  for (const frame of frames) await to.stream.receiveFrame(frame);
}

/** Moves the frames sent so far out of `from.sent` (the "wire") for the test to deliver, drop or reorder. */
function takeSent(from: Endpoint): Uint8Array[] {
  return from.sent.splice(0);
}

async function spaceOf(frame: Uint8Array): Promise<Space> {
  return (await plain.open(frame)).space;
}

async function framesIn(frames: Uint8Array[], space: Space): Promise<Uint8Array[]> {
  const spaces = await Promise.all(frames.map(spaceOf));
  return frames.filter((_, index) => spaces[index] === space);
}

async function acksIn(frames: Uint8Array[]): Promise<AckPacket[]> {
  const opened = await Promise.all((await framesIn(frames, 'control')).map((frame) => plain.open(frame)));
  return opened.map(({ body }) => decodeAck(body));
}

function controlFrame(seq: number, ack: AckPacket): Promise<Uint8Array> {
  return plain.seal('control', seq, encodeAck(ack));
}

describe('ReliableStream', () => {
  it('splits a large message into frames that use the whole overhead allowance and reassembles it', async () => {
    const clock = new ManualClock();
    const codec = createTaggedCodec();
    const sender = endpoint(clock, { codec });
    const receiver = endpoint(clock, { codec });
    const message = patternedMessage(2 * MAX_CHUNK + 1, 1);

    await sender.stream.send(message);
    const frames = takeSent(sender);

    expect(frames.map((frame) => frame.length)).toEqual([MAX_FRAME_BYTES, MAX_FRAME_BYTES, SEAL_OVERHEAD_BYTES + DATA_HEADER_BYTES + 1]);
    await deliver(receiver, frames);
    expect(receiver.received.map(fingerprint)).toEqual([fingerprint(message)]);
  });

  it('an answer sent while buffered packets are being delivered carries an ack the other side accepts', async () => {
    // Packets 1 and 2 wait for 0; when 0 arrives, the listener answers message 0 at once (as a handshake
    // does), before 1 and 2 are delivered: its ack must not report 1 as a range at the cumulative ack.
    const clock = new ManualClock();
    const sender = endpoint(clock);
    const receiver = endpoint(clock);
    receiver.stream.on('message', () => {
      if (receiver.received.length === 1) void receiver.stream.sendText('answer');
    });
    for (const text of ['zero', 'one', 'two']) await sender.stream.sendText(text);
    const [zero, one, two] = takeSent(sender);
    await deliver(receiver, [one!, two!, zero!]);
    await settle();

    expect(receiver.received.map((message) => new TextDecoder().decode(message))).toEqual(['zero', 'one', 'two']);
    const answered = takeSent(receiver);
    // Every ack it sent, riding on data or alone, reports ranges strictly above its cumulative ack.
    const riding = await Promise.all((await framesIn(answered, 'data')).map(async (frame) => decodeDataPacket((await plain.open(frame)).body).ack));
    for (const ack of [...riding, ...(await acksIn(answered))]) {
      if (ack) for (const range of ack.ranges) expect(range.start).toBeGreaterThan(ack.cumulative);
    }
    await deliver(sender, answered);
    expect(sender.errors).toEqual([]);
    expect(sender.received.map((message) => new TextDecoder().decode(message))).toEqual(['answer']);
  });

  it('delivers an empty message', async () => {
    const clock = new ManualClock();
    const sender = endpoint(clock);
    const receiver = endpoint(clock);

    await sender.stream.send(new Uint8Array(0));
    await sender.stream.sendText('after');
    await deliver(receiver, takeSent(sender));

    expect(receiver.received.map((message) => new TextDecoder().decode(message))).toEqual(['', 'after']);
  });

  it('recovers a dropped frame with one retransmission once later frames are acked, before any timeout', async () => {
    const clock = new ManualClock();
    const sender = endpoint(clock);
    const receiver = endpoint(clock);
    await sender.stream.send(patternedMessage(6 * MAX_CHUNK, 2));
    const [first, dropped, ...rest] = takeSent(sender);

    await deliver(receiver, [first!, ...rest]);
    await clock.advance(25); // the receiver's delayed ack for the last packet
    await deliver(sender, takeSent(receiver));
    await clock.advance(100); // a round trip plus the reordering window; the RTO is 200 ms by now

    expect(sender.stream.stats.rtoMs).toBeGreaterThan(clock.now());
    expect(sender.stream.stats.retransmits).toBe(1);
    const [retransmission] = takeSent(sender);
    expect(fingerprint(retransmission!)).toEqual(fingerprint(dropped!)); // the cached bytes, not a reseal
    await deliver(receiver, [retransmission!]);
    expect(receiver.received.map(fingerprint)).toEqual([fingerprint(patternedMessage(6 * MAX_CHUNK, 2))]);
  });

  it('does not retransmit a frame that was only overtaken and arrives within the reordering window', async () => {
    const clock = new ManualClock();
    const sender = endpoint(clock);
    const receiver = endpoint(clock);
    await sender.stream.send(patternedMessage(6 * MAX_CHUNK, 3));
    const [first, late, ...rest] = takeSent(sender);

    await deliver(receiver, [first!, ...rest]);
    await clock.advance(50); // a 50 ms round trip: the overtaken frame gets that plus 4 × 25 ms of variation
    await deliver(sender, takeSent(receiver));
    await clock.advance(5);
    await deliver(receiver, [late!]);
    const [gapFilledAck] = takeSent(receiver); // sent at once, not after the ack delay
    await deliver(sender, [gapFilledAck!]);
    await clock.advance(60_000);

    expect(sender.stream.stats.retransmits).toBe(0);
    expect(sender.stream.stats.inFlightPackets).toBe(0);
  });

  it('widens the reordering allowance when the peer reports duplicates, i.e. resends of packets that were only late', async () => {
    const overtakenFrameResent = async (peerDuplicates: number) => {
      const clock = new ManualClock();
      // A peer that holds acks at most 25 ms (no longer wait for answers), so the timeout is not stretched by it.
      const sender = endpoint(clock, { answerAckDelayMs: 0 });
      await sender.stream.send(patternedMessage(3 * MAX_CHUNK, 5));
      await clock.advance(50);
      // Seqs 0 and 2 arrived after 50 ms, seq 1 not (yet): RTT 50 ms, variation 25 ms, RTO 200 ms (the minimum).
      await deliver(sender, [await controlFrame(0, { cumulative: 1, duplicates: peerDuplicates, ranges: [{ start: 2, end: 3 }] })]);
      takeSent(sender);
      while (sender.sent.length === 0) await clock.runNext();
      return { at: clock.now(), rtoMs: sender.stream.stats.rtoMs };
    };

    // Lost after a round trip plus 4 × the variation: 50 + 100 ms.
    expect(await overtakenFrameResent(0)).toEqual({ at: 150, rtoMs: 200 });
    // With the allowance doubled, the timeout comes first and resends it as a probe (and backs off).
    expect(await overtakenFrameResent(1)).toEqual({ at: 200, rtoMs: 400 });
  });

  it('on a timeout resends only the oldest frame, then whatever its ack shows missing', async () => {
    const clock = new ManualClock();
    const sender = endpoint(clock, { initialRtoMs: 1_000 });
    const receiver = endpoint(clock);
    await sender.stream.send(patternedMessage(3 * MAX_CHUNK, 4));
    const lost = takeSent(sender);

    await clock.advance(1_000);
    const probes = takeSent(sender);
    expect(probes.map(fingerprint)).toEqual([fingerprint(lost[0]!)]);

    await deliver(receiver, probes);
    await clock.advance(25);
    await deliver(sender, takeSent(receiver));
    expect(takeSent(sender).map(fingerprint)).toEqual(lost.slice(1).map(fingerprint));
  });

  it('retransmits on timeout with exponential backoff, clamped at maxRtoMs', async () => {
    const clock = new ManualClock();
    const sendTimes: number[] = [];
    const stream = new ReliableStream({
      clock,
      sendFrame: () => sendTimes.push(clock.now()),
      initialRtoMs: 1_000,
      maxRtoMs: 8_000,
    });

    await stream.send(new Uint8Array([1]));
    await clock.advance(40_000);

    const gaps = sendTimes.slice(1).map((time, index) => time - sendTimes[index]!);
    expect(gaps).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000]);
    expect(stream.stats.retransmits).toBe(7);
  });

  it('estimates the retransmission timeout from measured round trips', async () => {
    const clock = new ManualClock();
    const oneWayDelay = { dropRate: 0, duplicateRate: 0, minDelayMs: 100, maxDelayMs: 100 };
    const toReceiver = new LossyLink(clock, Math.random, oneWayDelay);
    const toSender = new LossyLink(clock, Math.random, oneWayDelay);
    const sender = new ReliableStream({ clock, sendFrame: toReceiver.send, initialRtoMs: 3_000, maxRtoMs: 10_000 });
    const receiver = new ReliableStream({ clock, sendFrame: toSender.send, ackDelayMs: 25 });
    toReceiver.deliverTo((frame) => void receiver.receiveFrame(frame));
    toSender.deliverTo((frame) => void sender.receiveFrame(frame));

    for (let round = 0; round < 20; round++) {
      await sender.send(new Uint8Array([round]));
      await clock.advance(500);
    }

    // Each ack waits out the 25 ms ack delay, so a round trip takes 225 ms; the timeout adds the longest
    // a peer may hold an ack (answerAckDelayMs, 250 ms), so that a held ack is not taken for a loss.
    expect(sender.stats.smoothedRttMs).toBeCloseTo(225, 0);
    expect(sender.stats.rtoMs).toBeGreaterThanOrEqual(225 + 250);
    expect(sender.stats.rtoMs).toBeLessThan(550);
    expect(sender.stats.retransmits).toBe(0);
  });

  it('coalesces acks: one after the ack delay, or at once after ackEveryPackets packets', async () => {
    const clock = new ManualClock();
    const sender = endpoint(clock);
    const receiver = endpoint(clock, { ackDelayMs: 25, ackEveryPackets: 4 });
    await sender.stream.send(patternedMessage(7 * MAX_CHUNK, 3));
    const frames = takeSent(sender);

    await deliver(receiver, frames.slice(0, 3));
    expect(receiver.sent).toEqual([]);
    await clock.advance(25);
    expect(await acksIn(takeSent(receiver))).toEqual([{ cumulative: 3, duplicates: 0, ranges: [] }]);

    await deliver(receiver, frames.slice(3, 7));
    expect(await acksIn(takeSent(receiver))).toEqual([{ cumulative: 7, duplicates: 0, ranges: [] }]);
  });

  it('an owed ack rides on the next data frame the other way, and is not sent again alone', async () => {
    const clock = new ManualClock();
    const a = endpoint(clock);
    const b = endpoint(clock, { ackDelayMs: 25 });
    await a.stream.sendText('key');
    await deliver(b, takeSent(a));
    // The answer goes out within the ack delay: one data frame, carrying the ack.
    await b.stream.sendText('echo');
    const answer = takeSent(b);
    expect(await framesIn(answer, 'control')).toEqual([]);
    expect(answer).toHaveLength(1);
    await clock.advance(100);
    expect(b.sent).toEqual([]);
    expect(b.stream.stats.acksPiggybacked).toBe(1);
    await deliver(a, answer);
    expect(a.stream.stats.inFlightPackets).toBe(0);
    expect(new TextDecoder().decode(a.received[0])).toBe('echo');
    // a owes b an ack now, for an answer to what a sent: it waits for a's next key, up to answerAckDelayMs.
    await clock.advance(249);
    expect(a.sent).toEqual([]);
    await a.stream.sendText('next key');
    const nextKey = takeSent(a);
    expect(await framesIn(nextKey, 'control')).toEqual([]);
    await deliver(b, nextKey);
    expect(b.stream.stats.inFlightPackets).toBe(0);
    // b answers; the last answer is acked alone once answerAckDelayMs passes with nothing to carry it.
    await b.stream.sendText('echo 2');
    await deliver(a, takeSent(b));
    await clock.advance(249);
    expect(a.sent).toEqual([]);
    await clock.advance(1);
    expect(await acksIn(takeSent(a))).toEqual([{ cumulative: 2, duplicates: 0, ranges: [] }]);
    // Two frames per key and its echo, plus one ack when typing stops; nothing was resent meanwhile.
    expect(a.stream.stats.retransmits + b.stream.stats.retransmits).toBe(0);
  });

  it('waits for an answer only for a lone packet in order: a second packet, or one out of order, is acked after ackDelayMs', async () => {
    const clock = new ManualClock();
    const a = endpoint(clock);
    const b = endpoint(clock);
    await a.stream.sendText('key');
    await deliver(b, takeSent(a));
    await b.stream.sendText('output 1');
    await b.stream.sendText('output 2');
    await b.stream.sendText('output 3');
    const [first, ...rest] = takeSent(b);
    expect(rest.length).toBeGreaterThan(0);
    // One packet of output: a may answer it (it sent the key), so the ack waits...
    await deliver(a, [first!]);
    await clock.advance(24);
    expect(a.sent).toEqual([]);
    // ...but a second one ends the wait: acked ackDelayMs after it.
    await deliver(a, rest);
    await clock.advance(25);
    expect((await acksIn(takeSent(a))).map((ack) => ack.cumulative)).toEqual([1 + rest.length]);

    // Out of order (a gap: maybe a loss) is never held for an answer.
    await a.stream.sendText('key 2');
    await deliver(b, takeSent(a));
    await b.stream.sendText('x');
    const [x] = takeSent(b);
    await b.stream.sendText('y');
    await deliver(a, takeSent(b));
    await clock.advance(25);
    expect((await acksIn(takeSent(a))).map((ack) => ack.ranges.length)).toEqual([1]);
    await deliver(a, [x!]);
    expect((await acksIn(takeSent(a))).map((ack) => ack.cumulative)).toEqual([3 + rest.length]);
  });

  it('small messages queued together share one frame and arrive one by one, in order', async () => {
    const clock = new ManualClock();
    const sender = endpoint(clock);
    const receiver = endpoint(clock);
    const texts = Array.from({ length: 10 }, (_, index) => `keystroke ${index}`);
    await Promise.all(texts.map((text) => sender.stream.sendText(text)));
    const frames = takeSent(sender);
    // The first goes at once; the nine queued while it was sealed share the next frame.
    expect(frames).toHaveLength(2);
    await deliver(receiver, frames);
    expect(receiver.received.map((message) => new TextDecoder().decode(message))).toEqual(texts);
    expect(receiver.stream.stats.messagesReceived).toBe(10);
  });

  it('batches only what fits in a frame; a large message after small ones is chunked as before', async () => {
    const clock = new ManualClock();
    const sender = endpoint(clock);
    const receiver = endpoint(clock);
    const large = patternedMessage(MAX_CHUNK + 10, 9);
    const small = Array.from({ length: 3 }, (_, index) => patternedMessage(3_000 * (index + 1), index));
    await Promise.all([...small, large, ...small].map((message) => sender.stream.send(message)));
    const frames = takeSent(sender);
    expect(frames.every((frame) => frame.length <= MAX_FRAME_BYTES)).toBe(true);
    await deliver(receiver, frames);
    expect(receiver.received.map(fingerprint)).toEqual([...small, large, ...small].map(fingerprint));
  });

  it('fails on an ack riding on data that covers data never sent', async () => {
    const clock = new ManualClock();
    const receiver = endpoint(clock);
    const lying = encodeDataPacket({ kind: 'last-chunk', payload: new Uint8Array(1), ack: { cumulative: 5, duplicates: 0, ranges: [] } });
    await deliver(receiver, [await plain.seal('data', 0, lying)]);
    expect(receiver.errors.map((error) => error.message)).toEqual(['ack covers data never sent']);
  });

  it('a peer that never acknowledges: memory stays within the window, and its data still arrives and is acked', async () => {
    const clock = new ManualClock();
    const a = endpoint(clock, { windowBytes: 64 * 1024 });
    const silent = endpoint(clock);
    // a sends far more than its window; nothing it sends is ever acknowledged.
    const pending = Array.from({ length: 50 }, (_, index) => a.stream.send(patternedMessage(8 * 1024, index)).catch(() => {}));
    await settle();
    for (let round = 0; round < 5; round++) await clock.advance(1_000);
    expect(a.stream.stats.inFlightBytes).toBeLessThanOrEqual(64 * 1024);
    // The other direction flows: the silent peer's messages (which carry no ack of a's data) arrive and are acked.
    await silent.stream.sendText('still here');
    takeSent(a);
    await deliver(a, takeSent(silent).slice(0, 1));
    await clock.advance(250);
    expect(new TextDecoder().decode(a.received.at(-1))).toBe('still here');
    expect((await acksIn(takeSent(a))).at(-1)?.cumulative).toBe(1);
    a.stream.dispose();
    await Promise.all(pending);
  });

  it('acks out-of-order packets with selective ranges', async () => {
    const clock = new ManualClock();
    const sender = endpoint(clock);
    const receiver = endpoint(clock);
    await sender.stream.send(patternedMessage(7 * MAX_CHUNK, 4));
    const frames = takeSent(sender);

    await deliver(receiver, [frames[0]!, frames[2]!, frames[3]!, frames[5]!]);

    expect(await acksIn(takeSent(receiver))).toEqual([
      { cumulative: 1, duplicates: 0, ranges: [{ start: 2, end: 4 }, { start: 5, end: 6 }] },
    ]);
  });

  it('sends heartbeats only after heartbeatIntervalMs of silence, and none while paused', async () => {
    const clock = new ManualClock();
    const idle = endpoint(clock, { heartbeatIntervalMs: 60_000 });

    await clock.advance(59_999);
    expect(idle.sent).toHaveLength(0);
    await clock.advance(1);
    expect(await framesIn(idle.sent, 'control')).toHaveLength(1);

    // Acking a data frame at 90 s is traffic too: the next heartbeat waits until 60 s after that ack.
    await clock.advance(30_000);
    const peer = endpoint(clock);
    await peer.stream.send(new Uint8Array([1]));
    await deliver(idle, takeSent(peer));
    await clock.advance(25);
    expect(await framesIn(idle.sent, 'control')).toHaveLength(2);
    await clock.advance(59_999);
    expect(await framesIn(idle.sent, 'control')).toHaveLength(2);
    await clock.advance(1);
    expect(await framesIn(idle.sent, 'control')).toHaveLength(3);

    idle.stream.pause();
    const sentBeforePause = idle.sent.length;
    await clock.advance(600_000);
    expect(idle.sent).toHaveLength(sentBeforePause);
    expect(idle.stream.stats.heartbeatsSent).toBe(2);
  });

  it('sends nothing while paused, keeps accepting messages, and resends every unacked packet on resume', async () => {
    const clock = new ManualClock();
    const sender = endpoint(clock);
    const receiver = endpoint(clock);
    await sender.stream.send(patternedMessage(3 * MAX_CHUNK, 5));
    const [first, second, third] = takeSent(sender);
    await deliver(receiver, [first!]);
    await clock.advance(25);
    await deliver(sender, takeSent(receiver));

    sender.stream.pause();
    await sender.stream.send(patternedMessage(10, 6)); // accepted into the window while the transport is down
    await clock.advance(120_000);
    expect(sender.sent).toEqual([]);

    sender.stream.resume();
    const resent = await framesIn(sender.sent, 'data');
    expect(resent.slice(0, 2).map(fingerprint)).toEqual([second!, third!].map(fingerprint));
    expect(resent).toHaveLength(3);
    expect(sender.stream.stats.retransmits).toBe(2);
    await deliver(receiver, resent);
    expect(receiver.received.map(fingerprint)).toEqual([patternedMessage(3 * MAX_CHUNK, 5), patternedMessage(10, 6)].map(fingerprint));
  });

  it('delivers a message once however often its frames are replayed', async () => {
    const clock = new ManualClock();
    const sender = endpoint(clock);
    const receiver = endpoint(clock);
    await sender.stream.send(patternedMessage(2 * MAX_CHUNK, 7));
    const frames = takeSent(sender);

    await deliver(receiver, [frames[1]!, frames[1]!, frames[0]!, frames[1]!, frames[0]!]);

    expect(receiver.received).toHaveLength(1);
    expect(receiver.stream.stats.duplicateFrames).toBe(3);
  });

  it('ignores control frames older than the newest one seen', async () => {
    const clock = new ManualClock();
    const sender = endpoint(clock);
    await sender.stream.send(patternedMessage(2 * MAX_CHUNK, 8));
    expect(sender.stream.stats.inFlightPackets).toBe(2);

    await deliver(sender, [await controlFrame(5, { cumulative: 0, duplicates: 0, ranges: [] })]);
    await deliver(sender, [await controlFrame(3, { cumulative: 2, duplicates: 0, ranges: [] })]);
    expect(sender.stream.stats.inFlightPackets).toBe(2);
    expect(sender.stream.stats.staleControlFrames).toBe(1);

    await deliver(sender, [await controlFrame(6, { cumulative: 2, duplicates: 0, ranges: [] })]);
    expect(sender.stream.stats.inFlightPackets).toBe(0);
  });

  it('fails, reports and goes quiet when a frame does not authenticate', async () => {
    const clock = new ManualClock();
    const codec = createTaggedCodec();
    const sender = endpoint(clock, { codec });
    const receiver = endpoint(clock, { codec });
    await sender.stream.send(patternedMessage(100, 9));
    const [frame] = takeSent(sender);
    const tampered = frame!.slice();
    tampered[20]! ^= 1;

    await deliver(receiver, [tampered]);

    expect(receiver.errors.map((error) => error.message)).toEqual(['frame failed authentication']);
    await expect(receiver.stream.send(new Uint8Array(1))).rejects.toThrow('frame failed authentication');
    await deliver(receiver, [frame!]);
    expect(receiver.received).toEqual([]);
    await clock.advance(120_000);
    expect(receiver.sent).toEqual([]);
  });

  it('fails on a malformed packet inside a frame that opens', async () => {
    const clock = new ManualClock();
    const receiver = endpoint(clock);
    const unknownKind = new Uint8Array([7, 1, 2]);

    await deliver(receiver, [await plain.seal('data', 0, unknownKind)]);

    expect(receiver.errors).toHaveLength(1);
    expect(receiver.errors[0]).toBeInstanceOf(PacketFormatError);
  });

  it('fails on an ack for data it never sent', async () => {
    const clock = new ManualClock();
    const sender = endpoint(clock);

    await deliver(sender, [await controlFrame(0, { cumulative: 1, duplicates: 0, ranges: [] })]);

    expect(sender.errors.map((error) => error.message)).toEqual(['ack covers data never sent']);
  });

  it('applies backpressure: send() waits for window room and in-flight bytes stay within the window', async () => {
    const clock = new ManualClock();
    const windowBytes = 4 * MAX_FRAME_BYTES;
    const sender = endpoint(clock, { windowBytes });
    const receiver = endpoint(clock);
    const message = patternedMessage(1024 * 1024, 10);
    let accepted = false;
    const sending = sender.stream.send(message).then(() => (accepted = true));

    await clock.advance(10_000); // nothing is acked: the window stays full
    expect(accepted).toBe(false);
    expect(sender.stream.stats.inFlightBytes).toBeLessThanOrEqual(windowBytes);
    expect(sender.stream.stats.queuedBytes).toBe(message.length - 4 * MAX_CHUNK);

    while (!accepted) {
      await deliver(receiver, takeSent(sender));
      await clock.advance(25);
      await deliver(sender, takeSent(receiver));
      expect(sender.stream.stats.inFlightBytes).toBeLessThanOrEqual(windowBytes);
    }
    await sending;
    await deliver(receiver, takeSent(sender));
    expect(receiver.received.map(fingerprint)).toEqual([fingerprint(message)]);
  });

  it('delivers the close after all data even when it arrives first, and resolves end() once acked', async () => {
    const clock = new ManualClock();
    const sender = endpoint(clock);
    const receiver = endpoint(clock);
    await sender.stream.send(patternedMessage(MAX_CHUNK + 1, 11));
    let ended = false;
    const ending = sender.stream.end().then(() => (ended = true));
    await clock.advance(0);
    const [firstChunk, lastChunk, close] = takeSent(sender);

    await deliver(receiver, [close!, firstChunk!]);
    expect(receiver.events).toEqual([]);
    expect(receiver.stream.remoteClosed).toBe(false); // so far a cut, not an end
    await deliver(receiver, [lastChunk!]);
    expect(receiver.events).toEqual(['message', 'close']);
    expect(receiver.stream.remoteClosed).toBe(true);

    expect(ended).toBe(false);
    await clock.advance(25);
    await deliver(sender, takeSent(receiver));
    await ending;
    await expect(sender.stream.send(new Uint8Array(1))).rejects.toThrow('stream is ending');
  });

  it('acks a close at once, even in a conversation: end() does not wait for an answer that will not come', async () => {
    const clock = new ManualClock();
    const a = endpoint(clock);
    const b = endpoint(clock);
    await b.stream.sendText('hello');
    await deliver(a, takeSent(b));
    const ending = a.stream.end();
    await clock.advance(0);
    await deliver(b, takeSent(a));
    // b sent data since it last received, which would hold the ack of a lone packet; not a close's.
    const acks = takeSent(b);
    expect((await acksIn(acks)).map((ack) => ack.cumulative)).toEqual([1]);
    await deliver(a, acks);
    await ending;
  });

  it('fails on data after the close', async () => {
    const clock = new ManualClock();
    const receiver = endpoint(clock);

    await deliver(receiver, [
      await plain.seal('data', 0, encodeDataPacket({ kind: 'close' })),
      await plain.seal('data', 1, encodeDataPacket({ kind: 'last-chunk', payload: new Uint8Array(1) })),
    ]);

    expect(receiver.events).toEqual(['close']);
    expect(receiver.errors.map((error) => error.message)).toEqual(['data after close']);
  });

  it('drops data beyond its reorder buffer and takes it when retransmitted', async () => {
    const clock = new ManualClock();
    const sender = endpoint(clock);
    const receiver = endpoint(clock, { reorderBufferPackets: 2 });
    await sender.stream.send(patternedMessage(3 * MAX_CHUNK, 12));
    const [first, second, third] = takeSent(sender);

    await deliver(receiver, [third!, second!]);
    expect(receiver.stream.stats.framesBeyondBuffer).toBe(1);
    expect(receiver.stream.stats.reorderBufferedPackets).toBe(1);

    await deliver(receiver, [first!, third!]);
    expect(receiver.received.map(fingerprint)).toEqual([fingerprint(patternedMessage(3 * MAX_CHUNK, 12))]);
  });

  it('rejects pending sends and end() when disposed', async () => {
    const clock = new ManualClock();
    const sender = endpoint(clock, { windowPackets: 1 });
    const first = sender.stream.send(patternedMessage(2 * MAX_CHUNK, 13));
    const ending = sender.stream.end();

    sender.stream.dispose();

    await expect(first).rejects.toThrow('stream disposed');
    await expect(ending).rejects.toThrow('stream disposed');
  });

  it('rejects a message whose last chunk is still being sealed when the stream is disposed', async () => {
    let finishSealing!: () => void;
    const slowCodec: FrameCodec = {
      async seal(space, seq, body) {
        await new Promise<void>((resolve) => (finishSealing = resolve));
        return plain.seal(space, seq, body);
      },
      open: (frame) => plain.open(frame),
    };
    const stream = new ReliableStream({ sendFrame: () => {}, codec: slowCodec, clock: new ManualClock() });
    const sending = stream.send(new Uint8Array(1));
    await settle();

    stream.dispose();
    finishSealing();

    await expect(sending).rejects.toThrow('stream disposed');
  });

  it('validates its tuning', () => {
    const sendFrame = () => {};
    expect(() => new ReliableStream({ sendFrame, windowBytes: MAX_FRAME_BYTES - 1 })).toThrow(RangeError);
    expect(() => new ReliableStream({ sendFrame, minRtoMs: 2_000, initialRtoMs: 1_000 })).toThrow(/RTOs/);
    expect(() => new ReliableStream({ sendFrame, ackEveryPackets: Number.NaN })).toThrow(/ackEveryPackets/);
  });
});

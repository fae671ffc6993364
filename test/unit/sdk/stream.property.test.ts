// Property: whatever the relay does (drop, duplicate, delay, reorder) and however often either side
// is cut off, every message arrives once, whole and in order, the close comes last, and memory stays
// within the configured window.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES } from '../../../shared/core/messages.js';
import { MAX_BODY_BYTES } from '../../../sdk/codec.js';
import { DATA_HEADER_BYTES } from '../../../sdk/packets.js';
import { ReliableStream } from '../../../sdk/stream.js';
import { LossyLink } from './support/lossy-link.js';
import { ManualClock } from './support/manual-clock.js';
import { fingerprint, patternedMessage, seededRandom } from './support/random.js';
import { createTaggedCodec } from './support/test-codecs.js';

const MAX_CHUNK = MAX_BODY_BYTES - DATA_HEADER_BYTES;
/** Generous: the slowest scenarios (1-packet window, 30 % loss, long outages) take under 20 simulated minutes and 1,000 timers. */
const SIMULATED_TIME_LIMIT_MS = 3600_000;
const TIMER_LIMIT = 100_000;

const messageSize = fc.oneof(
  fc.integer({ min: 0, max: 64 }),
  fc.constantFrom(MAX_CHUNK - 1, MAX_CHUNK, MAX_CHUNK + 1, 2 * MAX_CHUNK),
  fc.integer({ min: 0, max: 300_000 }),
);

const scenario = fc.record({
  sizesFromA: fc.array(messageSize, { maxLength: 5 }),
  sizesFromB: fc.array(messageSize, { maxLength: 5 }),
  link: fc.record({
    dropRate: fc.integer({ min: 0, max: 30 }).map((percent) => percent / 100),
    duplicateRate: fc.integer({ min: 0, max: 10 }).map((percent) => percent / 100),
    minDelayMs: fc.integer({ min: 0, max: 50 }),
    maxDelayMs: fc.integer({ min: 50, max: 800 }),
  }),
  tuning: fc.record({
    windowPackets: fc.integer({ min: 1, max: 64 }),
    windowBytes: fc.integer({ min: MAX_FRAME_BYTES, max: 1024 * 1024 }),
    reorderBufferPackets: fc.integer({ min: 1, max: 64 }),
  }),
  outages: fc.array(
    fc.record({
      side: fc.constantFrom('a' as const, 'b' as const),
      atMs: fc.integer({ min: 0, max: 30_000 }),
      durationMs: fc.integer({ min: 1, max: 120_000 }),
    }),
    { maxLength: 3 },
  ),
  seed: fc.integer(),
});

type Received = Array<Uint8Array | 'close'>;

describe('ReliableStream over a lossy, reordering relay', () => {
  it('delivers every message exactly once, in order, then the close, within bounded memory', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ sizesFromA, sizesFromB, link, tuning, outages, seed }) => {
        const clock = new ManualClock();
        const random = seededRandom(seed);
        const offline = { a: 0, b: 0 };
        const linkToB = new LossyLink(clock, random, link, () => offline.b === 0);
        const linkToA = new LossyLink(clock, random, link, () => offline.a === 0);
        const streams = {
          a: new ReliableStream({ sendFrame: linkToB.send, codec: createTaggedCodec(), clock, ...tuning }),
          b: new ReliableStream({ sendFrame: linkToA.send, codec: createTaggedCodec(), clock, ...tuning }),
        };
        linkToB.deliverTo((frame) => void streams.b.receiveFrame(frame));
        linkToA.deliverTo((frame) => void streams.a.receiveFrame(frame));

        const errors: unknown[] = [];
        const record = (stream: ReliableStream): Received => {
          const received: Received = [];
          stream.on('message', (message) => received.push(message));
          stream.on('close', () => received.push('close'));
          stream.on('error', (error) => errors.push(error));
          return received;
        };
        const receivedByB = record(streams.b);
        const receivedByA = record(streams.a);

        for (const { side, atMs, durationMs } of outages) {
          clock.schedule(atMs, () => {
            offline[side]++;
            streams[side].pause();
          });
          clock.schedule(atMs + durationMs, () => {
            if (--offline[side] === 0) streams[side].resume();
          });
        }

        const finished = { a: false, b: false };
        const produce = async (side: 'a' | 'b', sizes: number[]) => {
          for (const [index, size] of sizes.entries()) await streams[side].send(patternedMessage(size, tagOf(side, index)));
          await streams[side].end();
          finished[side] = true;
        };
        produce('a', sizesFromA).catch((error) => errors.push(error));
        produce('b', sizesFromB).catch((error) => errors.push(error));

        const largestMessage = Math.max(0, ...sizesFromA, ...sizesFromB);
        for (let timers = 0; !(finished.a && finished.b) && errors.length === 0; timers++) {
          if (clock.now() > SIMULATED_TIME_LIMIT_MS || timers > TIMER_LIMIT) {
            throw new Error(`stalled at ${clock.now()} ms after ${timers} timers: ${JSON.stringify([streams.a.stats, streams.b.stats])}`);
          }
          await clock.runNext();
          for (const stream of [streams.a, streams.b]) {
            const stats = stream.stats;
            expect(stats.inFlightBytes).toBeLessThanOrEqual(tuning.windowBytes);
            expect(stats.inFlightPackets).toBeLessThanOrEqual(tuning.windowPackets);
            expect(stats.reorderBufferedPackets).toBeLessThan(tuning.reorderBufferPackets);
            expect(stats.queuedBytes).toBeLessThanOrEqual(largestMessage);
          }
        }

        expect(errors).toEqual([]);
        expectReceived(receivedByB, sizesFromA, 'a');
        expectReceived(receivedByA, sizesFromB, 'b');
        expect(Math.max(linkToA.largestFrame, linkToB.largestFrame)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
        streams.a.dispose();
        streams.b.dispose();
      }),
      { numRuns: 100 },
    );
  });
});

function tagOf(side: 'a' | 'b', index: number): number {
  return (side === 'a' ? 0 : 100) + index;
}

function expectReceived(received: Received, sizes: number[], sender: 'a' | 'b'): void {
  const expected = sizes.map((size, index) => fingerprint(patternedMessage(size, tagOf(sender, index))));
  expect(received.map((item) => (item === 'close' ? item : fingerprint(item)))).toEqual([...expected, 'close']);
}

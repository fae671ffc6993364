// Property: a side whose process dies at any moment and comes back from the snapshot it last saved
// (persistWith) continues the stream as if nothing happened: every message arrives once, whole and in
// order, then the close; and no (space, seq) is ever sealed twice with other contents, which under
// AES-GCM would reuse a nonce.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FrameCodec } from '../../../sdk/codec.js';
import { ReliableStream, type StreamSnapshot } from '../../../sdk/stream.js';
import { LossyLink } from './support/lossy-link.js';
import { ManualClock } from './support/manual-clock.js';
import { fingerprint, patternedMessage, seededRandom } from './support/random.js';
import { createTaggedCodec } from './support/test-codecs.js';

const SIMULATED_TIME_LIMIT_MS = 3600_000;
const TIMER_LIMIT = 100_000;
type Side = 'a' | 'b';
type Received = Array<Uint8Array | 'close'>;

const scenario = fc.record({
  sizesFromA: fc.array(fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 120_000 })), { maxLength: 6 }),
  sizesFromB: fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 4 }),
  link: fc.record({
    dropRate: fc.integer({ min: 0, max: 20 }).map((percent) => percent / 100),
    duplicateRate: fc.integer({ min: 0, max: 10 }).map((percent) => percent / 100),
    minDelayMs: fc.integer({ min: 0, max: 20 }),
    maxDelayMs: fc.integer({ min: 20, max: 400 }),
  }),
  tuning: fc.record({
    windowPackets: fc.integer({ min: 1, max: 16 }),
    reorderBufferPackets: fc.integer({ min: 1, max: 16 }),
  }),
  crashes: fc.array(fc.record({ side: fc.constantFrom<Side>('a', 'b'), atMs: fc.integer({ min: 0, max: 5_000 }) }), { minLength: 1, maxLength: 4 }),
  seed: fc.integer(),
});

/** The tagged test codec, remembering what it sealed under each (space, seq) across the side's restarts. */
function nonceWatchingCodec(violations: string[]): FrameCodec {
  const inner = createTaggedCodec();
  const sealed = new Map<string, string>();
  return {
    async seal(space, seq, body) {
      const key = `${space} ${seq}`;
      const print = fingerprint(body);
      const before = sealed.get(key);
      if (before !== undefined && before !== print) violations.push(`${key} sealed again with other contents`);
      sealed.set(key, print);
      return inner.seal(space, seq, body);
    },
    open: (frame) => inner.open(frame),
  };
}

describe('ReliableStream restored from its snapshot after a crash', () => {
  it('loses, duplicates and reorders nothing, and never reseals a sequence number with other contents', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ sizesFromA, sizesFromB, link, tuning, crashes, seed }) => {
        const clock = new ManualClock();
        const random = seededRandom(seed);
        const violations: string[] = [];
        const errors: unknown[] = [];
        const links = { a: new LossyLink(clock, random, link), b: new LossyLink(clock, random, link) };
        const codecs = { a: nonceWatchingCodec(violations), b: nonceWatchingCodec(violations) };
        const saved: Partial<Record<Side, StreamSnapshot>> = {};
        const received: Record<Side, Received> = { a: [], b: [] };
        const peerOf = (side: Side): Side => (side === 'a' ? 'b' : 'a');

        const start = (side: Side, restore?: StreamSnapshot) => {
          // What the side sends travels on the link to its peer.
          const stream = new ReliableStream({ sendFrame: links[side].send, codec: codecs[side], clock, ...tuning, restore });
          stream.on('message', (message) => received[side].push(message));
          stream.on('close', () => received[side].push('close'));
          stream.on('error', (error) => errors.push(error));
          // A real store keeps a copy: later changes to the stream must not reach what was saved.
          stream.persistWith((snapshot) => (saved[side] = structuredClone(snapshot)));
          return stream;
        };
        const streams = { a: start('a'), b: start('b') };
        links.a.deliverTo((frame) => void streams.b.receiveFrame(frame));
        links.b.deliverTo((frame) => void streams.a.receiveFrame(frame));

        for (const { side, atMs } of crashes) {
          clock.schedule(atMs, () => {
            streams[side].dispose();
            streams[side] = start(side, structuredClone(saved[side]!));
          });
        }

        const finished = { a: false, b: false };
        const produce = async (side: Side, sizes: number[]) => {
          for (const [index, size] of sizes.entries()) {
            // A message handed to send() is in the snapshot at once: after a crash the restored stream sends it.
            await streams[side].send(patternedMessage(size, tagOf(side, index))).catch(() => {});
          }
          for (;;) {
            const stream = streams[side];
            try {
              await stream.end();
              break;
            } catch (error) {
              if (stream === streams[side]) throw error; // not a crash
            }
          }
          finished[side] = true;
        };
        produce('a', sizesFromA).catch((error) => errors.push(error));
        produce('b', sizesFromB).catch((error) => errors.push(error));

        for (let timers = 0; !(finished.a && finished.b) && errors.length === 0; timers++) {
          if (clock.now() > SIMULATED_TIME_LIMIT_MS || timers > TIMER_LIMIT) {
            throw new Error(`stalled at ${clock.now()} ms after ${timers} timers: ${JSON.stringify([streams.a.stats, streams.b.stats])}`);
          }
          await clock.runNext();
        }

        expect(errors).toEqual([]);
        expect(violations).toEqual([]);
        expectReceived(received[peerOf('a')], sizesFromA, 'a');
        expectReceived(received[peerOf('b')], sizesFromB, 'b');
        streams.a.dispose();
        streams.b.dispose();
      }),
      { numRuns: 100 },
    );
  });
});

function tagOf(side: Side, index: number): number {
  return (side === 'a' ? 0 : 100) + index;
}

function expectReceived(received: Received, sizes: number[], sender: Side): void {
  const expected = sizes.map((size, index) => fingerprint(patternedMessage(size, tagOf(sender, index))));
  expect(received.map((item) => (item === 'close' ? item : fingerprint(item)))).toEqual([...expected, 'close']);
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_SACK_RANGES,
  PacketFormatError,
  decodeAck,
  decodeDataPacket,
  encodeAck,
  encodeDataPacket,
  type AckPacket,
  type SeqRange,
} from '../../../sdk/packets.js';

/** Ascending, non-adjacent ranges above the cumulative ack, as a receiver reports them. */
const ackPacket: fc.Arbitrary<AckPacket> = fc
  .tuple(
    fc.integer({ min: 0, max: 1_000_000 }),
    fc.integer({ min: 0, max: 0xffff_ffff }),
    fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 50 })), { maxLength: MAX_SACK_RANGES }),
  )
  .map(([cumulative, duplicates, gapsAndLengths]) => {
    const ranges: SeqRange[] = [];
    let next = cumulative;
    for (const [gap, length] of gapsAndLengths) {
      ranges.push({ start: next + gap, end: next + gap + length });
      next += gap + length;
    }
    return { cumulative, duplicates, ranges };
  });

describe('packets', () => {
  it('round-trips data packets', () => {
    fc.assert(
      fc.property(fc.constantFrom('chunk' as const, 'last-chunk' as const), fc.uint8Array({ maxLength: 256 }), (kind, payload) => {
        expect(decodeDataPacket(encodeDataPacket({ kind, payload }))).toEqual({ kind, payload });
      }),
    );
    expect([...encodeDataPacket({ kind: 'close' })]).toEqual([2]);
    expect(decodeDataPacket(new Uint8Array([2]))).toEqual({ kind: 'close' });
  });

  it('round-trips data packets carrying an ack, and whole messages', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('chunk' as const, 'last-chunk' as const),
        fc.uint8Array({ maxLength: 256 }),
        ackPacket,
        fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 8 }),
        (kind, payload, ack, messages) => {
          expect(decodeDataPacket(encodeDataPacket({ kind, payload, ack }))).toEqual({ kind, payload, ack });
          expect(decodeDataPacket(encodeDataPacket({ kind: 'messages', messages }))).toEqual({ kind: 'messages', messages });
          expect(decodeDataPacket(encodeDataPacket({ kind: 'messages', messages, ack }))).toEqual({ kind: 'messages', messages, ack });
          expect(decodeDataPacket(encodeDataPacket({ kind: 'close', ack }))).toEqual({ kind: 'close', ack });
        },
      ),
    );
  });

  it('lays out a data packet with an ack as kind | 0x80, the ack, then the payload; whole messages with u32 lengths', () => {
    const ack = { cumulative: 3, duplicates: 0, ranges: [] };
    expect([...encodeDataPacket({ kind: 'last-chunk', payload: new Uint8Array([9]), ack })]).toEqual([0x81, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 9]);
    expect([...encodeDataPacket({ kind: 'messages', messages: [new Uint8Array([7]), new Uint8Array([])] })]).toEqual([3, 0, 0, 0, 1, 7, 0, 0, 0, 0]);
  });

  it('round-trips acks', () => {
    fc.assert(
      fc.property(ackPacket, (ack) => {
        expect(decodeAck(encodeAck(ack))).toEqual(ack);
      }),
    );
  });

  it('lays out an ack as type, cumulative, duplicates, count, then inclusive ranges', () => {
    const body = encodeAck({ cumulative: 3, duplicates: 2, ranges: [{ start: 5, end: 7 }] });
    expect([...body]).toEqual([1, 0, 0, 0, 3, 0, 0, 0, 2, 1, 0, 0, 0, 5, 0, 0, 0, 6]);
  });

  it('rejects malformed packets with PacketFormatError and nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        for (const decode of [decodeAck, decodeDataPacket]) {
          try {
            decode(bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(PacketFormatError);
          }
        }
      }),
    );
    const rangeBelowCumulative = encodeAck({ cumulative: 3, duplicates: 0, ranges: [{ start: 4, end: 5 }] });
    rangeBelowCumulative[13] = 2;
    expect(() => decodeAck(rangeBelowCumulative)).toThrow(PacketFormatError);
    // At the cumulative ack: redundant (older releases sent it when answering mid-delivery), accepted.
    const rangeAtCumulative = encodeAck({ cumulative: 3, duplicates: 0, ranges: [{ start: 4, end: 5 }] });
    rangeAtCumulative[13] = 3;
    expect(decodeAck(rangeAtCumulative)).toEqual({ cumulative: 3, duplicates: 0, ranges: [{ start: 3, end: 5 }] });
    expect(() => decodeDataPacket(new Uint8Array([2, 0]))).toThrow('close packet carries bytes');
    expect(() => decodeDataPacket(new Uint8Array(0))).toThrow(PacketFormatError);
  });
});

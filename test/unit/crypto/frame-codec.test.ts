import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FRAME_FORMAT_AES_256_GCM,
  FRAME_HEADER_BYTES,
  FrameAuthError,
  MAX_FRAME_BODY_BYTES,
  MAX_SEQ,
  createPlainCodec,
  epochOf,
  readFrameHeader,
} from '../../../shared/crypto/frame-codec.js';
import { caughtAsync, expectFrameAuthError } from './helpers.js';

const body = new TextEncoder().encode('hello');

describe('frame header', () => {
  it('lays out format, flags, epoch and seq big-endian', async () => {
    const frame = await createPlainCodec().seal('control', 0x01_23_45_67, body);
    expect(Array.from(frame.subarray(0, FRAME_HEADER_BYTES))).toEqual([0x00, 0b10, 0x00, 0x04, 0x01, 0x23, 0x45, 0x67]);
    expect(epochOf(0x01_23_45_67)).toBe(4);
  });

  it('derives the epoch from the top 10 bits of seq', () => {
    expect([epochOf(0), epochOf(2 ** 22 - 1), epochOf(2 ** 22), epochOf(MAX_SEQ)]).toEqual([0, 0, 1, 1023]);
  });

  it('rejects reserved flag bits, epoch mismatches, wrong formats and bad lengths', async () => {
    const frame = await createPlainCodec().seal('data', 5, body);
    const withByte = (index: number, value: number) => {
      const copy = frame.slice();
      copy[index] = value;
      return copy;
    };
    const read = (bytes: Uint8Array) => async () => readFrameHeader(bytes, 0x00, 0);
    expectFrameAuthError(await caughtAsync(read(withByte(1, 0b100))), 'malformed-frame');
    expectFrameAuthError(await caughtAsync(read(withByte(3, 1))), 'epoch-mismatch');
    expectFrameAuthError(await caughtAsync(read(withByte(0, FRAME_FORMAT_AES_256_GCM))), 'unsupported-version');
    expectFrameAuthError(await caughtAsync(read(frame.subarray(0, FRAME_HEADER_BYTES - 1))), 'malformed-frame');
    expectFrameAuthError(
      await caughtAsync(read(new Uint8Array(FRAME_HEADER_BYTES + MAX_FRAME_BODY_BYTES + 1))),
      'malformed-frame',
    );
  });
});

describe('plain codec', () => {
  it('round-trips both spaces, the seq extremes and empty and maximal bodies', async () => {
    const codec = createPlainCodec();
    for (const [space, seq, payload] of [
      ['data', 0, body],
      ['control', MAX_SEQ, new Uint8Array(0)],
      ['data', 2 ** 22, new Uint8Array(MAX_FRAME_BODY_BYTES).fill(9)],
    ] as const) {
      expect(await codec.open(await codec.seal(space, seq, payload))).toEqual({ space, seq, body: payload });
    }
  });

  it('refuses to seal what the stream layer must never produce', async () => {
    const codec = createPlainCodec();
    for (const seq of [-1, 2 ** 32, 1.5, Number.NaN]) {
      await expect(codec.seal('data', seq, body)).rejects.toThrow(RangeError);
    }
    await expect(codec.seal('data', 0, new Uint8Array(MAX_FRAME_BODY_BYTES + 1))).rejects.toThrow(RangeError);
    await expect(codec.seal('other' as 'data', 0, body)).rejects.toThrow(RangeError);
  });

  it('opens arbitrary bytes into a frame that reseals identically, or throws FrameAuthError (fast-check)', async () => {
    const codec = createPlainCodec();
    const headerLike = fc
      .tuple(fc.constantFrom(0, 1, 2), fc.integer({ min: 0, max: 3 }), fc.nat({ max: MAX_SEQ }), fc.uint8Array({ maxLength: 64 }))
      .map(([format, flags, seq, rest]) => {
        const frame = new Uint8Array(FRAME_HEADER_BYTES + rest.length);
        const view = new DataView(frame.buffer);
        view.setUint8(0, format);
        view.setUint8(1, flags);
        view.setUint16(2, epochOf(seq));
        view.setUint32(4, seq);
        frame.set(rest, FRAME_HEADER_BYTES);
        return frame;
      });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 64 }), headerLike), async (bytes) => {
        try {
          const opened = await codec.open(bytes);
          const resealed = await codec.seal(opened.space, opened.seq, opened.body);
          // The plain codec ignores the direction bit, so compare everything else.
          expect(resealed[1]! | (bytes[1]! & 1)).toBe(bytes[1]);
          expect(Array.from(resealed).filter((_, i) => i !== 1)).toEqual(Array.from(bytes).filter((_, i) => i !== 1));
        } catch (error) {
          expect(error).toBeInstanceOf(FrameAuthError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

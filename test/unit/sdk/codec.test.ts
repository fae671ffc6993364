import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES } from '../../../shared/protocol/messages.js';
import { createPlainCodec, MAX_BODY_BYTES, MAX_SEQ, SEAL_OVERHEAD_BYTES } from '../../../sdk/codec.js';

const codec = createPlainCodec();

describe('plain codec', () => {
  it('lays out version, space, big-endian seq, then the body', async () => {
    const frame = await codec.seal('control', 0x01020304, new Uint8Array([0xaa, 0xbb]));
    expect([...frame]).toEqual([0, 1, 0x01, 0x02, 0x03, 0x04, 0xaa, 0xbb]);
    expect([...(await codec.seal('data', 0, new Uint8Array(0)))]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('opens what it seals', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('data' as const, 'control' as const),
        fc.integer({ min: 0, max: MAX_SEQ }),
        fc.uint8Array({ maxLength: 512 }),
        async (space, seq, body) => {
          expect(await codec.open(await codec.seal(space, seq, body))).toEqual({ space, seq, body });
        },
      ),
    );
  });

  it('rejects frames it did not produce', async () => {
    await expect(codec.open(new Uint8Array([0, 0, 0, 0, 0]))).rejects.toThrow('shorter than its header');
    await expect(codec.open(new Uint8Array([1, 0, 0, 0, 0, 0]))).rejects.toThrow('unsupported frame version 1');
    await expect(codec.open(new Uint8Array([0, 2, 0, 0, 0, 0]))).rejects.toThrow('unknown frame space 2');
  });

  it('opens a frame that is a view into a larger buffer', async () => {
    const sealed = await codec.seal('data', 7, new Uint8Array([5, 6]));
    const buffer = new Uint8Array(sealed.length + 3);
    buffer.set(sealed, 3);
    expect(await codec.open(buffer.subarray(3))).toEqual({ space: 'data', seq: 7, body: new Uint8Array([5, 6]) });
  });

  it('refuses sequence numbers outside u32', async () => {
    await expect(codec.seal('data', MAX_SEQ + 1, new Uint8Array(0))).rejects.toThrow(RangeError);
    await expect(codec.seal('data', -1, new Uint8Array(0))).rejects.toThrow(RangeError);
  });

  it('sizes bodies so that a sealed frame with the full overhead allowance fits a relay frame', () => {
    expect(MAX_BODY_BYTES + SEAL_OVERHEAD_BYTES).toBe(MAX_FRAME_BYTES);
  });
});

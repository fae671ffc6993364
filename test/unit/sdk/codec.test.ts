import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as shared from '../../../shared/crypto/frame-codec.js';
import { FRAME_CIPHER_OVERHEAD_BYTES } from '../../../shared/crypto/frame-cipher.js';
import { MAX_FRAME_BYTES } from '../../../shared/core/messages.js';
import { createPlainCodec, FrameAuthError, MAX_BODY_BYTES, MAX_SEQ, PLAIN_FRAME_FORMAT, SEAL_OVERHEAD_BYTES } from '../../../sdk/codec.js';

const codec = createPlainCodec();

describe('plain codec (the SDK re-exports shared/crypto/frame-codec.ts)', () => {
  it('is the shared implementation: one codec, one header layout', () => {
    expect(createPlainCodec).toBe(shared.createPlainCodec);
    expect(FrameAuthError).toBe(shared.FrameAuthError);
    expect(PLAIN_FRAME_FORMAT).toBe(shared.FRAME_FORMAT_PLAIN);
    expect(MAX_SEQ).toBe(shared.MAX_SEQ);
  });

  it('lays out format 0x00, flags (space in bit 1), epoch, big-endian seq, then the body', async () => {
    const frame = await codec.seal('control', 0x01020304, new Uint8Array([0xaa, 0xbb]));
    expect([...frame]).toEqual([0, 0b10, 0, 0x04, 0x01, 0x02, 0x03, 0x04, 0xaa, 0xbb]);
    expect([...(await codec.seal('data', 0, new Uint8Array(0)))]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
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

  it('rejects frames it did not produce with a typed FrameAuthError, which ends a session', async () => {
    const rejection = (frame: number[]) => codec.open(new Uint8Array(frame)).then(() => undefined, (error: unknown) => error);
    expect(await rejection([0, 0, 0, 0, 0])).toMatchObject({ name: 'FrameAuthError', code: 'malformed-frame' });
    expect(await rejection([1, 0, 0, 0, 0, 0, 0, 0])).toMatchObject({ name: 'FrameAuthError', code: 'unsupported-version' });
    expect(await rejection([0, 0b100, 0, 0, 0, 0, 0, 0])).toMatchObject({ name: 'FrameAuthError', code: 'malformed-frame' });
    expect(await rejection([0, 0, 0, 1, 0, 0, 0, 0])).toMatchObject({ name: 'FrameAuthError', code: 'epoch-mismatch' });
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

  it('sizes bodies so that a sealed frame with the full overhead allowance fits a relay frame, and the cipher fits the allowance', () => {
    expect(MAX_BODY_BYTES + SEAL_OVERHEAD_BYTES).toBe(MAX_FRAME_BYTES);
    expect(FRAME_CIPHER_OVERHEAD_BYTES).toBeLessThanOrEqual(SEAL_OVERHEAD_BYTES);
    expect(MAX_BODY_BYTES).toBeLessThanOrEqual(shared.MAX_FRAME_BODY_BYTES);
  });
});

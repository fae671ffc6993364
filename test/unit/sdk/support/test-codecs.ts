// Codecs for tests: one that uses the whole seal overhead allowance and detects tampering, like an AEAD would.
import { createPlainCodec, FRAME_HEADER_BYTES, SEAL_OVERHEAD_BYTES, type FrameCodec } from '../../../../sdk/codec.js';

const TAG_BYTES = SEAL_OVERHEAD_BYTES - FRAME_HEADER_BYTES;

/** FNV-1a over the bytes, repeated into a tag: not cryptography, just enough to notice a flipped bit. */
function tagOf(bytes: Uint8Array): Uint8Array {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  const tag = new Uint8Array(TAG_BYTES);
  const view = new DataView(tag.buffer);
  for (let offset = 0; offset + 4 <= TAG_BYTES; offset += 4) view.setUint32(offset, hash ^ offset);
  return tag;
}

/** Plain header, body, then a tag that fills the overhead allowance exactly. */
export function createTaggedCodec(): FrameCodec {
  const plain = createPlainCodec();
  return {
    async seal(space, seq, body) {
      const inner = await plain.seal(space, seq, body);
      const frame = new Uint8Array(inner.length + TAG_BYTES);
      frame.set(inner);
      frame.set(tagOf(inner), inner.length);
      return frame;
    },
    async open(frame) {
      const inner = frame.subarray(0, frame.length - TAG_BYTES);
      const tag = frame.subarray(frame.length - TAG_BYTES);
      if (frame.length < SEAL_OVERHEAD_BYTES || !tagOf(inner).every((byte, index) => byte === tag[index])) {
        throw new Error('frame failed authentication');
      }
      return plain.open(inner);
    },
  };
}

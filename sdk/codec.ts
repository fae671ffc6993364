// The seam where end-to-end encryption plugs in. The stream hands each packet body to a codec to
// seal, and every received frame to the codec to open; shared/crypto/frame-codec.ts implements the
// same interface with AES-GCM. The plain codec here authenticates nothing: tests and development only.

import { MAX_FRAME_BYTES } from '../shared/protocol/messages.js';

export type Space = 'data' | 'control';

export interface OpenedFrame {
  space: Space;
  seq: number;
  body: Uint8Array;
}

export interface FrameCodec {
  /** Seal one packet. The stream never reseals a (space, seq): it caches and resends the exact bytes. */
  seal(space: Space, seq: number, body: Uint8Array): Promise<Uint8Array>;
  /** Open one frame; throws on authentication/format failure. */
  open(frame: Uint8Array): Promise<OpenedFrame>;
}

/** What a codec may add to a body: header allowance plus an AEAD tag. The stream sizes bodies with it. */
export const SEAL_OVERHEAD_BYTES = 32 + 16;
/** Largest packet body the stream hands to `seal`, so that every sealed frame fits MAX_FRAME_BYTES. */
export const MAX_BODY_BYTES = MAX_FRAME_BYTES - SEAL_OVERHEAD_BYTES;

export const MAX_SEQ = 0xffff_ffff;

/**
 * First byte of every plain frame. Clients route received frames to streams by their first byte, and
 * shared/crypto numbers its formats the same way (0x00 plain, 0x01 AES-256-GCM), so 0 marks plain here too.
 */
export const PLAIN_FRAME_FORMAT = 0x00;
const PLAIN_HEADER_BYTES = 6;
const SPACE_CODES: Record<Space, number> = { data: 0, control: 1 };
const SPACES_BY_CODE: readonly Space[] = ['data', 'control'];

/** Header: version u8 (PLAIN_FRAME_FORMAT), space u8 (0 data, 1 control), seq u32 big-endian; then the body, unencrypted. */
export function createPlainCodec(): FrameCodec {
  return {
    async seal(space, seq, body) {
      if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ) throw new RangeError(`seq out of range: ${seq}`);
      const frame = new Uint8Array(PLAIN_HEADER_BYTES + body.length);
      const view = new DataView(frame.buffer);
      view.setUint8(0, PLAIN_FRAME_FORMAT);
      view.setUint8(1, SPACE_CODES[space]);
      view.setUint32(2, seq);
      frame.set(body, PLAIN_HEADER_BYTES);
      return frame;
    },
    async open(frame) {
      if (frame.length < PLAIN_HEADER_BYTES) throw new Error('frame shorter than its header');
      const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
      const version = view.getUint8(0);
      if (version !== PLAIN_FRAME_FORMAT) throw new Error(`unsupported frame version ${version}`);
      const space = SPACES_BY_CODE[view.getUint8(1)];
      if (!space) throw new Error(`unknown frame space ${view.getUint8(1)}`);
      return { space, seq: view.getUint32(2), body: frame.slice(PLAIN_HEADER_BYTES) };
    },
  };
}

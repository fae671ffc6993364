// The seam where end-to-end encryption plugs in. The stream hands each packet body to a codec to
// seal, and every received frame to the codec to open. One implementation and one header layout for
// both codecs live in shared/crypto: the plain codec (format 0x00, authenticates nothing: the
// handshake stream, tests and development) and the AES-256-GCM codec (format 0x01, frame-cipher.ts).
// This module re-exports them under the SDK's names and adds the stream's sizing constants.

import { MAX_FRAME_BYTES, type Role } from '../shared/core/messages.js';
import { createFrameCipher } from '../shared/crypto/frame-cipher.js';
import { createPlainCodec, FRAME_FORMAT_AES_256_GCM, FRAME_FORMAT_PLAIN, type FrameCodec } from '../shared/crypto/frame-codec.js';

export {
  createPlainCodec,
  FrameAuthError,
  FRAME_FORMAT_AES_256_GCM,
  FRAME_HEADER_BYTES,
  MAX_SEQ,
  type FrameAuthErrorCode,
  type FrameCodec,
  type OpenedFrame,
  type Space,
} from '../shared/crypto/frame-codec.js';

/**
 * What a codec may add to a body: header allowance plus an AEAD tag. The stream sizes bodies with it.
 * Both shared codecs add less (plain 8 bytes, AES-256-GCM 8 + 16), so every sealed frame fits.
 */
export const SEAL_OVERHEAD_BYTES = 32 + 16;
/** Largest packet body the stream hands to `seal`, so that every sealed frame fits MAX_FRAME_BYTES. */
export const MAX_BODY_BYTES = MAX_FRAME_BYTES - SEAL_OVERHEAD_BYTES;

/** First byte of every plain frame; clients route received frames to streams by their first byte. */
export const PLAIN_FRAME_FORMAT = FRAME_FORMAT_PLAIN;

/**
 * What rebuilds a codec in another process (a reload, a crash): nothing for plain frames, this side's
 * traffic secrets for AES-256-GCM. Whoever stores these can read and forge the session's frames:
 * keep them where only the session's own user can read them, and delete them when the session ends.
 */
export type CodecKeys =
  | { format: 'plain' }
  | { format: 'aes-256-gcm'; role: Role; sendSecret: Uint8Array; receiveSecret: Uint8Array };

/** The codec and frame format that CodecKeys stand for. */
export function codecFromKeys(keys: CodecKeys): { codec: FrameCodec; frameFormat: number } {
  if (keys.format === 'plain') return { codec: createPlainCodec(), frameFormat: FRAME_FORMAT_PLAIN };
  return { codec: createFrameCipher(keys), frameFormat: FRAME_FORMAT_AES_256_GCM };
}

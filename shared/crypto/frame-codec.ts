// The record layer the client SDK's reliable stream seals and opens packets through, and the
// 8-byte header shared by the plain codec (below) and the AES-256-GCM codec (frame-cipher.ts):
//
//   byte 0     format: 0x00 plain, 0x01 AES-256-GCM v1
//   byte 1     flags:  bit 0 direction (0 expert→agent, 1 agent→expert), bit 1 space (0 data,
//              1 control), bits 2-7 zero
//   bytes 2-3  epoch, big-endian; always seq >>> 22
//   bytes 4-7  seq, big-endian unsigned 32-bit
//   then       body (plain) or ciphertext || 16-byte tag (AES-256-GCM)

import { CodedError } from '../core/coded-error.js';

export type Space = 'data' | 'control';

export interface OpenedFrame {
  space: Space;
  seq: number;
  body: Uint8Array;
}

export interface FrameCodec {
  /** Seal one packet. The stream layer never reseals a (space, seq): it caches and resends the exact bytes. */
  seal(space: Space, seq: number, body: Uint8Array): Promise<Uint8Array>;
  /** Open one frame; throws FrameAuthError (typed) on any authentication or format failure. */
  open(frame: Uint8Array): Promise<OpenedFrame>;
}

export type FrameAuthErrorCode =
  /** Too short, too long, or reserved header bits set. */
  | 'malformed-frame'
  /** A format byte this codec does not open (also what a plain frame gets from the cipher, and vice versa). */
  | 'unsupported-version'
  /** The frame claims our own sending direction: the relay reflected our frame back to us. */
  | 'reflected-frame'
  /** The header's epoch is not the one its seq implies. */
  | 'epoch-mismatch'
  /** The GCM tag did not verify: tampering, splicing, or frames from another session. */
  | 'authentication-failed';

export class FrameAuthError extends CodedError<FrameAuthErrorCode> {
  override readonly name = 'FrameAuthError';

  constructor(code: FrameAuthErrorCode) {
    super(code, `Frame rejected: ${code}.`);
  }
}

export type Direction = 'expert-to-agent' | 'agent-to-expert';

export const FRAME_FORMAT_PLAIN = 0x00;
export const FRAME_FORMAT_AES_256_GCM = 0x01;
export const FRAME_HEADER_BYTES = 8;
/** Largest body a frame may carry; above API Gateway's 32 KB frame already, and the size the GCM limits in docs/protocol.md assume. */
export const MAX_FRAME_BODY_BYTES = 32 * 1024;
export const MAX_SEQ = 0xffff_ffff;
/** A new epoch, and so a new key, every 2^22 sequence numbers. */
export const EPOCH_SEQ_BITS = 22;

const DIRECTION_BIT = 0b01;
const SPACE_BIT = 0b10;

export function epochOf(seq: number): number {
  return seq >>> EPOCH_SEQ_BITS;
}

export interface FrameHeader {
  format: number;
  direction: Direction;
  space: Space;
  seq: number;
}

/** Checks what the caller controls; these are programming errors, not attacks, hence RangeError. */
export function assertSealable(space: Space, seq: number, body: Uint8Array): void {
  if (space !== 'data' && space !== 'control') throw new RangeError(`Unknown space: ${String(space)}`);
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ) throw new RangeError(`seq out of range: ${seq}`);
  if (body.length > MAX_FRAME_BODY_BYTES) throw new RangeError(`Body larger than ${MAX_FRAME_BODY_BYTES} bytes`);
}

/** Writes the header into the first FRAME_HEADER_BYTES of `target`. */
export function writeFrameHeader(target: Uint8Array, header: FrameHeader): void {
  const view = new DataView(target.buffer, target.byteOffset, FRAME_HEADER_BYTES);
  view.setUint8(0, header.format);
  view.setUint8(
    1,
    (header.direction === 'agent-to-expert' ? DIRECTION_BIT : 0) | (header.space === 'control' ? SPACE_BIT : 0),
  );
  view.setUint16(2, epochOf(header.seq));
  view.setUint32(4, header.seq);
}

/**
 * Parses and validates the header of a frame of the given format whose payload after the header
 * carries `overheadBytes` beyond the body (the GCM tag).
 */
export function readFrameHeader(frame: Uint8Array, format: number, overheadBytes: number): FrameHeader {
  if (frame.length < FRAME_HEADER_BYTES) throw new FrameAuthError('malformed-frame');
  const view = new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_BYTES);
  if (view.getUint8(0) !== format) throw new FrameAuthError('unsupported-version');
  const bodyBytes = frame.length - FRAME_HEADER_BYTES - overheadBytes;
  if (bodyBytes < 0 || bodyBytes > MAX_FRAME_BODY_BYTES) throw new FrameAuthError('malformed-frame');
  const flags = view.getUint8(1);
  if ((flags & ~(DIRECTION_BIT | SPACE_BIT)) !== 0) throw new FrameAuthError('malformed-frame');
  const seq = view.getUint32(4);
  if (view.getUint16(2) !== epochOf(seq)) throw new FrameAuthError('epoch-mismatch');
  return {
    format,
    direction: flags & DIRECTION_BIT ? 'agent-to-expert' : 'expert-to-agent',
    space: flags & SPACE_BIT ? 'control' : 'data',
    seq,
  };
}

/**
 * Unencrypted codec with the same header layout, used before/without encryption and by tests.
 * It authenticates nothing; its direction bit is always 0 and is not checked.
 */
export function createPlainCodec(): FrameCodec {
  return {
    async seal(space, seq, body) {
      assertSealable(space, seq, body);
      const frame = new Uint8Array(FRAME_HEADER_BYTES + body.length);
      writeFrameHeader(frame, { format: FRAME_FORMAT_PLAIN, direction: 'expert-to-agent', space, seq });
      frame.set(body, FRAME_HEADER_BYTES);
      return frame;
    },
    async open(frame) {
      const { space, seq } = readFrameHeader(frame, FRAME_FORMAT_PLAIN, 0);
      return { space, seq, body: frame.slice(FRAME_HEADER_BYTES) };
    },
  };
}

// Packet bodies carried inside sealed frames (see README.md for the layout).
//   data space:    kind u8 (0 chunk, 1 last chunk of a message, 2 close, 3 whole messages), with bit 0x80
//                  set when an ack (as in the control space) follows the kind byte; then the chunk bytes,
//                  or for kind 3 each message as length u32 and its bytes
//   control space: type u8 (1 ack), next expected data seq u32, duplicates received u32, range count u8,
//                  then per range: first seq u32, last seq u32 (inclusive), ascending, above the cumulative ack
// All integers big-endian.

import { CodedError } from '../shared/core/coded-error.js';

/** Half-open range of data sequence numbers [start, end). */
export interface SeqRange {
  start: number;
  end: number;
}

export type DataPacket = (
  | { kind: 'chunk'; payload: Uint8Array }
  | { kind: 'last-chunk'; payload: Uint8Array }
  | { kind: 'close' }
  /** Small messages queued together, whole, in one packet. */
  | { kind: 'messages'; messages: Uint8Array[] }
) & {
  /** The sender's receive state, riding along instead of a control packet of its own. */
  ack?: AckPacket;
};

export interface AckPacket {
  /** Next data seq the receiver expects: everything below has arrived. */
  cumulative: number;
  /** Data packets the receiver got more than once, so far (like TCP's D-SACK: tells the sender it resent too eagerly). */
  duplicates: number;
  /** Ranges received beyond a gap (selective acks). */
  ranges: SeqRange[];
}

/** Bytes a data packet adds in front of its chunk. */
export const DATA_HEADER_BYTES = 1;
/** Keeps an ack within 522 bytes; gaps beyond the first 64 are reported by later acks as the low ones fill. */
export const MAX_SACK_RANGES = 64;

const DATA_KINDS = ['chunk', 'last-chunk', 'close', 'messages'] as const;
const ACK_FOLLOWS = 0x80;
const ACK_TYPE = 1;
const ACK_HEADER_BYTES = 10;
const RANGE_BYTES = 8;
/** Bytes in front of each message of a 'messages' packet. */
export const MESSAGE_LENGTH_BYTES = 4;
/** The largest ack, so a packet that may carry one keeps room for it. */
export const MAX_ACK_BYTES = ACK_HEADER_BYTES + MAX_SACK_RANGES * RANGE_BYTES;

export class PacketFormatError extends CodedError<'malformed-packet'> {
  override readonly name = 'PacketFormatError';

  constructor(message: string, options?: ErrorOptions) {
    super('malformed-packet', message, options);
  }
}

export function encodeDataPacket(packet: DataPacket): Uint8Array {
  const ack = packet.ack ? encodeAck(packet.ack) : new Uint8Array(0);
  const parts = packet.kind === 'close' ? [] : packet.kind === 'messages' ? packet.messages.flatMap((message) => [lengthOf(message), message]) : [packet.payload];
  const body = new Uint8Array(DATA_HEADER_BYTES + ack.length + parts.reduce((total, part) => total + part.length, 0));
  body[0] = DATA_KINDS.indexOf(packet.kind) | (packet.ack ? ACK_FOLLOWS : 0);
  body.set(ack, DATA_HEADER_BYTES);
  let offset = DATA_HEADER_BYTES + ack.length;
  for (const part of parts) {
    body.set(part, offset);
    offset += part.length;
  }
  return body;
}

function lengthOf(message: Uint8Array): Uint8Array {
  const length = new Uint8Array(MESSAGE_LENGTH_BYTES);
  new DataView(length.buffer).setUint32(0, message.length);
  return length;
}

export function decodeDataPacket(body: Uint8Array): DataPacket {
  const first = body[0] ?? -1;
  const kind = DATA_KINDS[first & ~ACK_FOLLOWS];
  if (!kind || first < 0) throw new PacketFormatError(`unknown data packet kind ${body[0]}`);
  let offset = DATA_HEADER_BYTES;
  let ack: AckPacket | undefined;
  if (first & ACK_FOLLOWS) {
    const length = ackLength(body.subarray(offset));
    ack = decodeAck(body.subarray(offset, offset + length));
    offset += length;
  }
  const rest = body.subarray(offset);
  const withAck = <P extends DataPacket>(packet: P): P => (ack ? { ...packet, ack } : packet);
  if (kind === 'close') {
    if (rest.length !== 0) throw new PacketFormatError('close packet carries bytes');
    return withAck({ kind });
  }
  if (kind === 'messages') return withAck({ kind, messages: splitMessages(rest) });
  return withAck({ kind, payload: rest });
}

/** The length of the ack at the start of `bytes`, from its range count. */
function ackLength(bytes: Uint8Array): number {
  if (bytes.length < ACK_HEADER_BYTES) throw new PacketFormatError('data packet shorter than the ack it says follows');
  const length = ACK_HEADER_BYTES + bytes[9]! * RANGE_BYTES;
  if (bytes.length < length) throw new PacketFormatError('data packet shorter than the ack it says follows');
  return length;
}

function splitMessages(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const messages: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    if (offset + MESSAGE_LENGTH_BYTES > bytes.length) throw new PacketFormatError('a message length is cut short');
    const length = view.getUint32(offset);
    offset += MESSAGE_LENGTH_BYTES;
    if (offset + length > bytes.length) throw new PacketFormatError('a message runs past the end of its packet');
    messages.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  if (messages.length === 0) throw new PacketFormatError('a messages packet holds no message');
  return messages;
}

export function encodeAck(ack: AckPacket): Uint8Array {
  if (ack.ranges.length > MAX_SACK_RANGES) throw new RangeError(`more than ${MAX_SACK_RANGES} ack ranges`);
  const body = new Uint8Array(ACK_HEADER_BYTES + ack.ranges.length * RANGE_BYTES);
  const view = new DataView(body.buffer);
  view.setUint8(0, ACK_TYPE);
  view.setUint32(1, ack.cumulative);
  view.setUint32(5, ack.duplicates);
  view.setUint8(9, ack.ranges.length);
  ack.ranges.forEach(({ start, end }, index) => {
    view.setUint32(ACK_HEADER_BYTES + index * RANGE_BYTES, start);
    view.setUint32(ACK_HEADER_BYTES + index * RANGE_BYTES + 4, end - 1);
  });
  return body;
}

export function decodeAck(body: Uint8Array): AckPacket {
  if (body.length < ACK_HEADER_BYTES) throw new PacketFormatError('control packet shorter than its header');
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (view.getUint8(0) !== ACK_TYPE) throw new PacketFormatError(`unknown control packet type ${view.getUint8(0)}`);
  const cumulative = view.getUint32(1);
  const duplicates = view.getUint32(5);
  const count = view.getUint8(9);
  if (count > MAX_SACK_RANGES || body.length !== ACK_HEADER_BYTES + count * RANGE_BYTES) {
    throw new PacketFormatError('ack length does not match its range count');
  }
  const ranges: SeqRange[] = [];
  // A range starting at the cumulative ack should have advanced it; releases before 2 of the handshake
  // sent one when they answered while delivering buffered packets. Redundant, not wrong: accepted.
  let floor = cumulative;
  for (let index = 0; index < count; index++) {
    const start = view.getUint32(ACK_HEADER_BYTES + index * RANGE_BYTES);
    const last = view.getUint32(ACK_HEADER_BYTES + index * RANGE_BYTES + 4);
    if (start < floor || last < start) throw new PacketFormatError('ack ranges must ascend above the cumulative ack');
    ranges.push({ start, end: last + 1 });
    floor = last + 2; // adjacent ranges would have been merged
  }
  return { cumulative, duplicates, ranges };
}

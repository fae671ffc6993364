// Packet bodies carried inside sealed frames (see README.md for the layout).
//   data space:    kind u8 (0 chunk, 1 last chunk of a message, 2 close), then the chunk bytes
//   control space: type u8 (1 ack), next expected data seq u32, duplicates received u32, range count u8,
//                  then per range: first seq u32, last seq u32 (inclusive), ascending, above the cumulative ack
// All integers big-endian.

/** Half-open range of data sequence numbers [start, end). */
export interface SeqRange {
  start: number;
  end: number;
}

export type DataPacket =
  | { kind: 'chunk'; payload: Uint8Array }
  | { kind: 'last-chunk'; payload: Uint8Array }
  | { kind: 'close' };

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

const DATA_KINDS = ['chunk', 'last-chunk', 'close'] as const;
const ACK_TYPE = 1;
const ACK_HEADER_BYTES = 10;
const RANGE_BYTES = 8;

export class PacketFormatError extends Error {
  override name = 'PacketFormatError';
}

export function encodeDataPacket(packet: DataPacket): Uint8Array {
  const payload = packet.kind === 'close' ? new Uint8Array(0) : packet.payload;
  const body = new Uint8Array(DATA_HEADER_BYTES + payload.length);
  body[0] = DATA_KINDS.indexOf(packet.kind);
  body.set(payload, DATA_HEADER_BYTES);
  return body;
}

export function decodeDataPacket(body: Uint8Array): DataPacket {
  const kind = DATA_KINDS[body[0] ?? -1];
  if (!kind) throw new PacketFormatError(`unknown data packet kind ${body[0]}`);
  if (kind === 'close') {
    if (body.length !== DATA_HEADER_BYTES) throw new PacketFormatError('close packet carries bytes');
    return { kind };
  }
  return { kind, payload: body.subarray(DATA_HEADER_BYTES) };
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
  let floor = cumulative + 1; // a range starting at the cumulative ack would have advanced it
  for (let index = 0; index < count; index++) {
    const start = view.getUint32(ACK_HEADER_BYTES + index * RANGE_BYTES);
    const last = view.getUint32(ACK_HEADER_BYTES + index * RANGE_BYTES + 4);
    if (start < floor || last < start) throw new PacketFormatError('ack ranges must ascend above the cumulative ack');
    ranges.push({ start, end: last + 1 });
    floor = last + 2; // adjacent ranges would have been merged
  }
  return { cumulative, duplicates, ranges };
}

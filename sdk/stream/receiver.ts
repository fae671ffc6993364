// The receiving half of a reliable stream: data packets put back in order, messages reassembled
// from chunks, the peer's close, and the receive state an ack reports. Pure: no clock, no timers, no
// I/O; the stream feeds it opened packets and hands on what it delivers.

import { MAX_SEQ } from '../codec.js';
import { decodeDataPacket, encodeDataPacket, MAX_SACK_RANGES, PacketFormatError, type AckPacket, type DataPacket, type SeqRange } from '../packets.js';

/** What the receiver hands on, in order. */
export type Delivery = { kind: 'message'; message: Uint8Array } | { kind: 'close' };

/** How a data packet arrived, for the ack policy. */
export interface Arrival {
  /** It was the one missing below packets already held: the sender should hear at once. */
  fillsGap: boolean;
  /** It came in order with nothing held beyond it. */
  loneInOrder: boolean;
}

/** The receiver's part of a StreamSnapshot. */
export interface ReceiverSnapshot {
  nextExpected: number;
  reorderBuffer: Array<{ seq: number; body: Uint8Array }>;
  partialMessage: Uint8Array;
  remoteClosed: boolean;
  newestControlSeq: number;
}

export interface ReceiverStats {
  duplicateFrames: number;
  /** Control frames ignored because a newer one had been seen. */
  staleControlFrames: number;
  /** Data frames dropped because they lay beyond the reorder buffer. */
  framesBeyondBuffer: number;
  messagesReceived: number;
  reorderBufferedPackets: number;
}

export class StreamReceiver {
  readonly #reorderBufferPackets: number;
  #nextExpected = 0;
  readonly #reorderBuffer = new Map<number, DataPacket>();
  #partialMessage: Uint8Array[] = [];
  #remoteClosed = false;
  #newestControlSeq = -1;
  #stats = { duplicateFrames: 0, staleControlFrames: 0, framesBeyondBuffer: 0, messagesReceived: 0 };

  constructor(reorderBufferPackets: number, restore?: ReceiverSnapshot) {
    this.#reorderBufferPackets = reorderBufferPackets;
    if (restore) {
      this.#nextExpected = restore.nextExpected;
      for (const { seq, body } of restore.reorderBuffer) this.#reorderBuffer.set(seq, decodeDataPacket(body));
      this.#partialMessage = restore.partialMessage.length > 0 ? [restore.partialMessage] : [];
      this.#remoteClosed = restore.remoteClosed;
      this.#newestControlSeq = restore.newestControlSeq;
    }
  }

  /** True once the peer's close arrived after all its data. */
  get remoteClosed(): boolean {
    return this.#remoteClosed;
  }

  get stats(): ReceiverStats {
    return { ...this.#stats, reorderBufferedPackets: this.#reorderBuffer.size };
  }

  /** A control frame with `seq` arrived: true if it is the newest yet (older ones carry older news). */
  controlArrived(seq: number): boolean {
    if (seq <= this.#newestControlSeq) {
      this.#stats.staleControlFrames++;
      return false;
    }
    this.#newestControlSeq = seq;
    return true;
  }

  /** Takes a data packet; deliverable() then yields what it completed. Duplicates and packets beyond the buffer are counted and dropped. */
  dataArrived(seq: number, packet: DataPacket): Arrival {
    const inOrder = seq === this.#nextExpected;
    const arrival = { fillsGap: inOrder && this.#reorderBuffer.size > 0, loneInOrder: inOrder && this.#reorderBuffer.size === 0 };
    if (seq < this.#nextExpected || this.#reorderBuffer.has(seq)) this.#stats.duplicateFrames++;
    else if (seq >= this.#nextExpected + this.#reorderBufferPackets) this.#stats.framesBeyondBuffer++;
    else this.#reorderBuffer.set(seq, packet);
    return arrival;
  }

  /**
   * Messages and the close, in order, as far as the packets held reach. Each is taken when yielded:
   * a consumer that stops early (the stream was disposed) leaves the rest held. Throws
   * PacketFormatError when the peer breaks the packet order's rules.
   */
  *deliverable(): Generator<Delivery> {
    for (let packet = this.#reorderBuffer.get(this.#nextExpected); packet; packet = this.#reorderBuffer.get(this.#nextExpected)) {
      this.#reorderBuffer.delete(this.#nextExpected);
      this.#nextExpected++;
      if (this.#remoteClosed) throw new PacketFormatError('data after close');
      if (packet.kind === 'close') {
        if (this.#partialMessage.length > 0) throw new PacketFormatError('close inside a message');
        this.#remoteClosed = true;
        yield { kind: 'close' };
      } else if (packet.kind === 'messages') {
        if (this.#partialMessage.length > 0) throw new PacketFormatError('whole messages inside a message');
        for (const message of packet.messages) {
          this.#stats.messagesReceived++;
          yield { kind: 'message', message: message.slice() };
        }
      } else {
        this.#partialMessage.push(packet.payload);
        if (packet.kind === 'last-chunk') {
          const message = concatenate(this.#partialMessage);
          this.#partialMessage = [];
          this.#stats.messagesReceived++;
          yield { kind: 'message', message };
        }
      }
    }
  }

  /** What this side has received, as an ack reports it. */
  ackState(): AckPacket {
    return { cumulative: this.#nextExpected, duplicates: Math.min(this.#stats.duplicateFrames, MAX_SEQ), ranges: this.#receivedRanges() };
  }

  /**
   * Runs of buffered seqs above the gap, lowest first. Only those above nextExpected: while buffered
   * packets are being delivered, a listener that answers at once sends an ack before the next one
   * (still buffered, at nextExpected) is counted; a range starting at the cumulative ack is malformed.
   */
  #receivedRanges(): SeqRange[] {
    const seqs = [...this.#reorderBuffer.keys()].filter((seq) => seq > this.#nextExpected).sort((a, b) => a - b);
    const ranges: SeqRange[] = [];
    for (const seq of seqs) {
      const last = ranges.at(-1);
      if (last && last.end === seq) last.end++;
      else if (ranges.length === MAX_SACK_RANGES) break;
      else ranges.push({ start: seq, end: seq + 1 });
    }
    return ranges;
  }

  snapshot(): ReceiverSnapshot {
    return {
      nextExpected: this.#nextExpected,
      reorderBuffer: [...this.#reorderBuffer].map(([seq, packet]) => ({ seq, body: encodeDataPacket(packet) })),
      partialMessage: concatenate(this.#partialMessage),
      remoteClosed: this.#remoteClosed,
      newestControlSeq: this.#newestControlSeq,
    };
  }
}

function concatenate(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!.slice();
  const whole = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    whole.set(part, offset);
    offset += part.length;
  }
  return whole;
}

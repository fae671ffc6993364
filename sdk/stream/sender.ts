// The sending half of a reliable stream: messages queued, cut into packets (small ones batched
// whole), the window of sealed packets in flight, and what the peer's acks settle. Pure: no clock,
// no timers, no I/O; the stream seals, transmits and tells it the time.

import { MAX_SEQ, SEAL_OVERHEAD_BYTES } from '../codec.js';
import { encodeDataPacket, MESSAGE_LENGTH_BYTES, PacketFormatError, type AckPacket } from '../packets.js';
import type { StreamTuning } from './tuning.js';

/** A sealed data packet, kept until the peer acknowledges it and resent byte for byte. */
export interface SentPacket {
  frame: Uint8Array;
  /** 0 until it first leaves (a restored packet, or one sealed while paused). */
  transmissions: number;
  lastSentAt: number;
  /** Order of the latest transmission among all data transmissions; orders loss detection. */
  lastSendOrder: number;
  /** Selectively acknowledged: arrived, but not cumulatively yet. */
  sacked: boolean;
}

/** The next packet body to seal. */
export interface OutgoingPacket {
  body: Uint8Array;
  /** Takes its bytes out of the queue, once sealed with `seq` (only the one fill loop reads the queue). */
  commit(seq: number): void;
  /** Once it is in the window: resolves the sends it completes. */
  accepted?: () => void;
}

/** The sender's part of a StreamSnapshot. */
export interface SenderSnapshot {
  nextDataSeq: number;
  sendBase: number;
  inFlight: Array<{ seq: number; frame: Uint8Array; sacked: boolean }>;
  queued: Array<{ bytes: Uint8Array; offset: number }>;
  ending: boolean;
  closeSeq: number | undefined;
}

interface QueuedMessage {
  bytes: Uint8Array;
  /** Bytes before this offset are already in the window. */
  offset: number;
  accepted: Deferred;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

export class StreamSender {
  readonly #window: Pick<StreamTuning, 'windowPackets' | 'windowBytes'>;
  readonly #queue: QueuedMessage[] = [];
  #queuedBytes = 0;
  #messagesSent = 0;
  /** end() was called: a close follows the queue; settles once the peer acknowledged it. */
  #ending: Deferred | undefined;
  #closeSeq: number | undefined;
  #nextDataSeq = 0;
  /** Lowest data seq not cumulatively acked. */
  #sendBase = 0;
  /** Ascending by seq (Map keeps insertion order). */
  readonly #inFlight = new Map<number, SentPacket>();
  #inFlightBytes = 0;
  #sendOrder = 0;

  constructor(window: Pick<StreamTuning, 'windowPackets' | 'windowBytes'>, restore?: SenderSnapshot) {
    this.#window = window;
    if (restore) this.#restore(restore);
  }

  get ending(): boolean {
    return this.#ending !== undefined;
  }

  /** The seq the next sealed data packet takes. */
  get nextSeq(): number {
    return this.#nextDataSeq;
  }

  get stats(): { messagesSent: number; queuedBytes: number; inFlightBytes: number; inFlightPackets: number } {
    return {
      messagesSent: this.#messagesSent,
      queuedBytes: this.#queuedBytes,
      inFlightBytes: this.#inFlightBytes,
      inFlightPackets: this.#nextDataSeq - this.#sendBase,
    };
  }

  /** Queues a message; resolves once it is wholly in the window. */
  enqueue(bytes: Uint8Array): Promise<void> {
    const queued: QueuedMessage = { bytes, offset: 0, accepted: deferred() };
    this.#queue.push(queued);
    this.#queuedBytes += bytes.length;
    return queued.accepted.promise;
  }

  /** A close follows the queue; resolves once the peer acknowledged everything, close included. */
  end(): Promise<void> {
    this.#ending ??= deferred();
    return this.#ending.promise;
  }

  /**
   * The next packet body to send, `ack` riding along, in at most `room` bytes of packet: small
   * messages queued together go whole in one packet, a larger one in chunks, and the close last.
   */
  next(room: number, ack: AckPacket | undefined): OutgoingPacket | undefined {
    const message = this.#queue[0];
    if (message) {
      const batch = this.#wholeMessagesFitting(room);
      if (batch.length > 1) {
        const bytes = batch.reduce((total, queued) => total + queued.bytes.length, 0);
        return {
          body: encodeDataPacket({ kind: 'messages', messages: batch.map((queued) => queued.bytes), ack }),
          commit: () => {
            this.#queue.splice(0, batch.length);
            this.#queuedBytes -= bytes;
            this.#messagesSent += batch.length;
          },
          accepted: () => {
            for (const queued of batch) queued.accepted.resolve();
          },
        };
      }
      const end = Math.min(message.bytes.length, message.offset + room);
      const payload = message.bytes.subarray(message.offset, end);
      const last = end === message.bytes.length;
      return {
        body: encodeDataPacket({ kind: last ? 'last-chunk' : 'chunk', payload, ack }),
        // Committed once sealed (a stream ending during the seal still rejects the message); a whole
        // message leaves the queue at once, so no snapshot holds it both queued and in flight.
        commit: () => {
          this.#queuedBytes -= payload.length;
          message.offset = end;
          if (last) {
            this.#queue.shift();
            this.#messagesSent++;
          }
        },
        accepted: last ? () => message.accepted.resolve() : undefined,
      };
    }
    if (this.#ending && this.#closeSeq === undefined) {
      return { body: encodeDataPacket({ kind: 'close', ack }), commit: (seq) => (this.#closeSeq = seq) };
    }
    return undefined;
  }

  /** The queue's first whole messages that fit in one packet of `room` bytes together (small messages queued in the same turn). */
  #wholeMessagesFitting(room: number): QueuedMessage[] {
    const batch: QueuedMessage[] = [];
    let size = 0;
    for (const queued of this.#queue) {
      if (queued.offset !== 0 || size + MESSAGE_LENGTH_BYTES + queued.bytes.length > room) break;
      size += MESSAGE_LENGTH_BYTES + queued.bytes.length;
      batch.push(queued);
    }
    return batch;
  }

  hasRoomFor(body: Uint8Array): boolean {
    return (
      this.#nextDataSeq - this.#sendBase < this.#window.windowPackets &&
      this.#inFlightBytes + body.length + SEAL_OVERHEAD_BYTES <= this.#window.windowBytes
    );
  }

  /** The sequence space is used up: the next packet cannot be sealed. */
  get exhausted(): boolean {
    return this.#nextDataSeq >= MAX_SEQ;
  }

  /** `frame` was sealed with the next seq: it is in flight from now on (sent or not). */
  sealed(frame: Uint8Array): SentPacket {
    const packet: SentPacket = { frame, transmissions: 0, lastSentAt: 0, lastSendOrder: 0, sacked: false };
    this.#inFlight.set(this.#nextDataSeq++, packet);
    this.#inFlightBytes += frame.length;
    return packet;
  }

  /** `packet` leaves now; true if it had left before (a retransmission). */
  transmitted(packet: SentPacket, now: number): boolean {
    const again = packet.transmissions > 0;
    packet.transmissions++;
    packet.lastSentAt = now;
    packet.lastSendOrder = ++this.#sendOrder;
    return again;
  }

  /**
   * Takes the peer's ack: what it delivers for the first time (cumulatively or selectively), or
   * undefined when it changes nothing (a heartbeat or a repeated ack). Resolves end() once the close is acked.
   */
  acked(ack: AckPacket): SentPacket[] | undefined {
    const lastRange = ack.ranges.at(-1);
    if (ack.cumulative > this.#nextDataSeq || (lastRange && lastRange.end > this.#nextDataSeq)) {
      throw new PacketFormatError('ack covers data never sent');
    }
    const previousBase = this.#sendBase;
    const delivered: SentPacket[] = [];
    for (let seq = this.#sendBase; seq < ack.cumulative; seq++) {
      const packet = this.#inFlight.get(seq);
      if (!packet) continue;
      this.#inFlight.delete(seq);
      this.#inFlightBytes -= packet.frame.length;
      if (!packet.sacked) delivered.push(packet);
    }
    this.#sendBase = Math.max(this.#sendBase, ack.cumulative);
    for (const range of ack.ranges) {
      for (let seq = Math.max(range.start, this.#sendBase); seq < range.end; seq++) {
        const packet = this.#inFlight.get(seq);
        if (packet && !packet.sacked) {
          packet.sacked = true;
          delivered.push(packet);
        }
      }
    }
    if (delivered.length === 0 && this.#sendBase === previousBase) return undefined;
    if (this.#closeSeq !== undefined && this.#sendBase > this.#closeSeq) this.#ending?.resolve();
    return delivered;
  }

  /** In flight and not selectively acked, whether sent yet or not: what a resume sends again. */
  *unacknowledged(): Generator<SentPacket> {
    for (const packet of this.#inFlight.values()) if (!packet.sacked) yield packet;
  }

  /** Sent, neither acked nor selectively acked. */
  *outstanding(): Generator<SentPacket> {
    for (const packet of this.unacknowledged()) if (packet.transmissions > 0) yield packet;
  }

  oldestOutstanding(): SentPacket | undefined {
    let oldest: SentPacket | undefined;
    for (const packet of this.outstanding()) {
      if (!oldest || packet.lastSentAt < oldest.lastSentAt) oldest = packet;
    }
    return oldest;
  }

  snapshot(): SenderSnapshot {
    return {
      nextDataSeq: this.#nextDataSeq,
      sendBase: this.#sendBase,
      inFlight: [...this.#inFlight].map(([seq, packet]) => ({ seq, frame: packet.frame, sacked: packet.sacked })),
      queued: this.#queue.map(({ bytes, offset }) => ({ bytes, offset })),
      ending: this.#ending !== undefined,
      closeSeq: this.#closeSeq,
    };
  }

  #restore(snapshot: SenderSnapshot): void {
    this.#nextDataSeq = snapshot.nextDataSeq;
    this.#sendBase = snapshot.sendBase;
    for (const { seq, frame, sacked } of snapshot.inFlight) {
      // Never sent from this process: the loss timers treat them as new, resume() sends them.
      this.#inFlight.set(seq, { frame, transmissions: 0, lastSentAt: 0, lastSendOrder: 0, sacked });
      this.#inFlightBytes += frame.length;
    }
    for (const { bytes, offset } of snapshot.queued) {
      this.#queue.push({ bytes, offset, accepted: deferred() });
      this.#queuedBytes += bytes.length - offset;
    }
    if (snapshot.ending) this.#ending = deferred();
    this.#closeSeq = snapshot.closeSeq;
    // Nobody awaits these promises in this process; their rejection on dispose is expected.
    for (const message of this.#queue) message.accepted.promise.catch(() => {});
    this.#ending?.promise.catch(() => {});
  }

  /** The stream is over: pending sends and end() reject with `reason`. */
  terminate(reason: Error): void {
    for (const message of this.#queue.splice(0)) message.accepted.reject(reason);
    this.#ending?.reject(reason);
  }
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
}

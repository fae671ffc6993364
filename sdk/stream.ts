// ReliableStream: an ordered, reliable message stream over a frame transport that may reorder,
// drop and duplicate frames (the relay runs each frame in its own, possibly concurrent, Lambda).
// It knows nothing about WebSockets: it is given `sendFrame` and fed received frames.
//
// Data packets carry a per-direction u32 seq; the receiver acks cumulatively plus selective ranges,
// so a dropped frame costs one retransmission. Every sealed frame is cached and resent byte for byte.

import { MAX_FRAME_BYTES } from '../shared/core/messages.js';
import { systemClock, type CancelTimer, type Clock } from './clock.js';
import { createPlainCodec, MAX_SEQ, SEAL_OVERHEAD_BYTES, type FrameCodec } from './codec.js';
import { Emitter } from './emitter.js';
import {
  DATA_HEADER_BYTES,
  MAX_SACK_RANGES,
  PacketFormatError,
  decodeAck,
  decodeDataPacket,
  encodeAck,
  encodeDataPacket,
  MESSAGE_LENGTH_BYTES,
  type AckPacket,
  type DataPacket,
  type SeqRange,
} from './packets.js';

export interface StreamTuning {
  /** Sealed bytes sent but not cumulatively acked; bounds sender and receiver memory. */
  windowBytes: number;
  /** Span of data seqs sent but not cumulatively acked. */
  windowPackets: number;
  /** Out-of-order packets the receiver holds; at least the peer's windowPackets, or it drops some. */
  reorderBufferPackets: number;
  /** An ack waits at most this long for more packets to cover... */
  ackDelayMs: number;
  /** ...or until this many data packets arrived. */
  ackEveryPackets: number;
  /**
   * In a conversation (this side sent data since the last packet it received: keys and their echoes), the
   * ack for a lone in-order packet waits up to this long instead, for this side's next data packet to
   * carry it. The sender's retransmission timeout allows for it (it assumes the peer's is the same).
   */
  answerAckDelayMs: number;
  /** Idle time after which a heartbeat goes out; below API Gateway's 10-minute idle timeout. */
  heartbeatIntervalMs: number;
  initialRtoMs: number;
  minRtoMs: number;
  maxRtoMs: number;
  /** Least time beyond a round trip that a packet overtaken by later ones gets before it counts as lost. */
  minReorderWindowMs: number;
  /** Largest sealed frame. */
  maxFrameBytes: number;
}

export const DEFAULT_STREAM_TUNING: Readonly<StreamTuning> = Object.freeze({
  windowBytes: 1024 * 1024,
  windowPackets: 256,
  reorderBufferPackets: 256,
  ackDelayMs: 25,
  ackEveryPackets: 4,
  answerAckDelayMs: 250,
  heartbeatIntervalMs: 60_000,
  initialRtoMs: 1_000,
  minRtoMs: 200,
  maxRtoMs: 30_000,
  minReorderWindowMs: 10,
  maxFrameBytes: MAX_FRAME_BYTES,
});

/** Caps the reordering allowance at 16 times its base: beyond that the retransmission timeout acts first anyway. */
const MAX_REORDER_SCALE = 16;

export interface ReliableStreamOptions extends Partial<StreamTuning> {
  /** Hands one sealed frame to the transport. Must not throw; a frame that cannot go out is simply lost. */
  sendFrame(frame: Uint8Array): void;
  codec?: FrameCodec;
  clock?: Clock;
  /** Start paused, e.g. until the peer is connected. */
  paused?: boolean;
  /** Continue a stream from its snapshot (taken by another process, before a crash or a reload); needs the same codec keys. */
  restore?: StreamSnapshot;
}

/**
 * Everything a stream must remember to continue in another process: sequence numbers (a sealed
 * (space, seq) must never be sealed again with other contents), the sealed frames the peer has not
 * acknowledged (resent byte for byte), messages not yet in the window, and what was received beyond
 * the last delivered message (acknowledged to the peer, so it will not come again).
 */
export interface StreamSnapshot {
  nextDataSeq: number;
  sendBase: number;
  /** Sealed data frames not cumulatively acknowledged, ascending by seq. */
  inFlight: Array<{ seq: number; frame: Uint8Array; sacked: boolean }>;
  /** Messages not wholly in the window yet; the first may be partly sent (bytes before `offset`). */
  queued: Array<{ bytes: Uint8Array; offset: number }>;
  /** end() was called: a close follows the queue (or has its seq). */
  ending: boolean;
  closeSeq: number | undefined;
  nextControlSeq: number;
  nextExpected: number;
  /** Data packet bodies received beyond the gap, by seq. */
  reorderBuffer: Array<{ seq: number; body: Uint8Array }>;
  /** Chunks of the message being received, delivered in order but not yet whole. */
  partialMessage: Uint8Array;
  remoteClosed: boolean;
  newestControlSeq: number;
}

export interface StreamStats {
  framesSent: number;
  dataFramesSent: number;
  controlFramesSent: number;
  heartbeatsSent: number;
  /** Acks that rode on a data frame instead of a control frame of their own. */
  acksPiggybacked: number;
  /** Data frames sent again (fast, on timeout or on resume). */
  retransmits: number;
  /** Sealed bytes handed to the transport, retransmissions included. */
  bytesSent: number;
  messagesSent: number;
  framesReceived: number;
  bytesReceived: number;
  duplicateFrames: number;
  /** Control frames ignored because a newer one had been seen. */
  staleControlFrames: number;
  /** Data frames dropped because they lay beyond the reorder buffer. */
  framesBeyondBuffer: number;
  messagesReceived: number;
  /** Message bytes waiting to enter the window. */
  queuedBytes: number;
  inFlightBytes: number;
  inFlightPackets: number;
  reorderBufferedPackets: number;
  smoothedRttMs: number | undefined;
  rtoMs: number;
}

export type StreamEvents = {
  message: [message: Uint8Array];
  /** The peer's authenticated close arrived after all its data. */
  close: [];
  /** The stream failed (e.g. a frame did not open) and is unusable; the session should end. */
  error: [error: Error];
};

interface QueuedMessage {
  bytes: Uint8Array;
  /** Bytes before this offset are already in the window. */
  offset: number;
  accepted: Deferred;
}

interface InFlightPacket {
  frame: Uint8Array;
  transmissions: number;
  lastSentAt: number;
  /** Order of the latest transmission among all data transmissions; orders loss detection. */
  lastSendOrder: number;
  sacked: boolean;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

export class ReliableStream extends Emitter<StreamEvents> {
  readonly #tuning: StreamTuning;
  readonly #sendFrame: (frame: Uint8Array) => void;
  readonly #codec: FrameCodec;
  readonly #clock: Clock;
  readonly #maxChunkBytes: number;
  #paused: boolean;
  /** Set once the stream failed or was disposed; nothing happens afterwards. */
  #terminated: Error | undefined;
  #stats = {
    framesSent: 0,
    dataFramesSent: 0,
    controlFramesSent: 0,
    heartbeatsSent: 0,
    acksPiggybacked: 0,
    retransmits: 0,
    bytesSent: 0,
    messagesSent: 0,
    framesReceived: 0,
    bytesReceived: 0,
    duplicateFrames: 0,
    staleControlFrames: 0,
    framesBeyondBuffer: 0,
    messagesReceived: 0,
  };

  // Sending side.
  readonly #queue: QueuedMessage[] = [];
  #queuedBytes = 0;
  #filling = false;
  #ending: Deferred | undefined;
  #closeSeq: number | undefined;
  #nextDataSeq = 0;
  /** Lowest data seq not cumulatively acked. */
  #sendBase = 0;
  /** Ascending by seq (Map keeps insertion order). */
  readonly #inFlight = new Map<number, InFlightPacket>();
  #inFlightBytes = 0;
  #sendOrder = 0;
  #smoothedRtt: number | undefined;
  #rttVariance = 0;
  #rto: number;
  /** Fires at the next reorder deadline or retransmission timeout. */
  #lossTimer: CancelTimer | undefined;
  /** Latest transmission, by send order, known to have arrived, and how long its round trip took. */
  #newestDeliveredSendOrder = 0;
  #newestDeliveredRtt = 0;
  /** Multiplies the reordering allowance; grows while the peer reports duplicates. */
  #reorderScale = 1;
  #reorderScaleChangedAt = -Infinity;
  /** Duplicates the peer last reported receiving. */
  #peerDuplicates = 0;
  #heartbeatTimer: CancelTimer | undefined;
  #lastFrameSentAt: number;
  #nextControlSeq = 0;
  /** Called before a frame leaves when the state changed since the last call (persistWith). */
  #persist: ((snapshot: StreamSnapshot) => void) | undefined;
  #changedSincePersisted = true;
  /** A data packet is being sealed: it counts as in flight (readyForScreenImage), though its seq is not taken yet. */
  #sealing = false;

  // Receiving side.
  #nextExpected = 0;
  readonly #reorderBuffer = new Map<number, DataPacket>();
  #partialMessage: Uint8Array[] = [];
  #remoteClosed = false;
  #newestControlSeq = -1;
  #acksOwed = 0;
  #ackTimer: CancelTimer | undefined;
  /** When the armed ack timer fires. */
  #ackDeadline = Infinity;
  /** This side sent a data packet since the last data packet it received: an answer to the next one is likely. */
  #sentDataSinceReceived = false;

  constructor(options: ReliableStreamOptions) {
    super();
    const { sendFrame, codec, clock, paused, restore: _restore, ...tuning } = options;
    this.#tuning = validateTuning({ ...DEFAULT_STREAM_TUNING, ...definedOnly(tuning) });
    this.#sendFrame = sendFrame;
    this.#codec = codec ?? createPlainCodec();
    this.#clock = clock ?? systemClock;
    this.#maxChunkBytes = this.#tuning.maxFrameBytes - SEAL_OVERHEAD_BYTES - DATA_HEADER_BYTES;
    this.#rto = this.#tuning.initialRtoMs;
    this.#paused = paused ?? false;
    this.#lastFrameSentAt = this.#clock.now();
    if (options.restore) this.#restore(options.restore);
    this.#armHeartbeat();
    // A restored stream owes the peer everything it holds unacknowledged, as after an outage.
    if (options.restore && !this.#paused) {
      this.#paused = true;
      this.resume();
    }
  }

  /**
   * What this stream must remember to continue elsewhere (restore). Taken between seals: a packet
   * being sealed now is not in it, and its seq is not counted as used.
   */
  snapshot(): StreamSnapshot {
    const queued = this.#queue.map(({ bytes, offset }) => ({ bytes, offset }));
    return {
      nextDataSeq: this.#nextDataSeq,
      sendBase: this.#sendBase,
      inFlight: [...this.#inFlight].map(([seq, packet]) => ({ seq, frame: packet.frame, sacked: packet.sacked })),
      queued,
      ending: this.#ending !== undefined,
      closeSeq: this.#closeSeq,
      nextControlSeq: this.#nextControlSeq,
      nextExpected: this.#nextExpected,
      reorderBuffer: [...this.#reorderBuffer].map(([seq, packet]) => ({ seq, body: encodeDataPacket(packet) })),
      partialMessage: concatenate(this.#partialMessage),
      remoteClosed: this.#remoteClosed,
      newestControlSeq: this.#newestControlSeq,
    };
  }

  /**
   * Calls `save` synchronously before any frame leaves whenever the stream's state changed since the
   * last call, and once now: a process that crashes and restores the last snapshot never reseals a
   * seq the peer has seen (which would reuse a nonce) and never forgets data it has acknowledged.
   * Retransmissions and repeated acks of an unchanged state do not call it again.
   */
  persistWith(save: ((snapshot: StreamSnapshot) => void) | undefined): void {
    this.#persist = save;
    this.#changedSincePersisted = true;
    this.#persistIfChanged();
  }

  #persistIfChanged(): void {
    if (!this.#persist || !this.#changedSincePersisted) return;
    this.#changedSincePersisted = false;
    this.#persist(this.snapshot());
  }

  #restore(snapshot: StreamSnapshot): void {
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
    this.#nextControlSeq = snapshot.nextControlSeq;
    this.#nextExpected = snapshot.nextExpected;
    for (const { seq, body } of snapshot.reorderBuffer) this.#reorderBuffer.set(seq, decodeDataPacket(body));
    this.#partialMessage = snapshot.partialMessage.length > 0 ? [snapshot.partialMessage] : [];
    this.#remoteClosed = snapshot.remoteClosed;
    this.#newestControlSeq = snapshot.newestControlSeq;
    // Nobody awaits these promises in this process; their rejection on dispose is expected.
    for (const message of this.#queue) message.accepted.promise.catch(() => {});
    this.#ending?.promise.catch(() => {});
  }

  /** Resolves once the whole message is in the send window; keep `message` unchanged until then. */
  send(message: Uint8Array): Promise<void> {
    if (this.#terminated) return Promise.reject(this.#terminated);
    if (this.#ending) return Promise.reject(new Error('stream is ending: no more messages'));
    const queued: QueuedMessage = { bytes: message, offset: 0, accepted: deferred() };
    this.#queue.push(queued);
    this.#queuedBytes += message.length;
    this.#changedSincePersisted = true;
    // Kept before send() returns, so a crash after it does not lose the message even if the window is full.
    this.#persistIfChanged();
    void this.#fillWindow();
    return queued.accepted.promise;
  }

  sendText(text: string): Promise<void> {
    return this.send(new TextEncoder().encode(text));
  }

  /** Sends an authenticated close after every queued message; resolves when the peer acked it all. */
  end(): Promise<void> {
    if (this.#terminated) return Promise.reject(this.#terminated);
    if (!this.#ending) {
      this.#ending = deferred();
      this.#changedSincePersisted = true;
      this.#persistIfChanged();
      void this.#fillWindow();
    }
    return this.#ending.promise;
  }

  /** True once the peer's close arrived after all its data: an orderly end rather than a cut. */
  get remoteClosed(): boolean {
    return this.#remoteClosed;
  }

  /** Transport down: send nothing, keep all state. Received frames are still processed. */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#stopTimers();
  }

  /** Transport back: report what we hold and resend everything unacked at once. */
  resume(): void {
    if (!this.#paused || this.#terminated) return;
    this.#paused = false;
    this.#lastFrameSentAt = this.#clock.now();
    this.#sendAck();
    for (const packet of this.#inFlight.values()) {
      if (!packet.sacked) this.#transmitData(packet);
    }
    this.#recoverLosses();
    this.#armHeartbeat();
    void this.#fillWindow();
  }

  /** Feeds one frame from the transport. Resolves when it has been processed; never rejects. */
  async receiveFrame(frame: Uint8Array): Promise<void> {
    if (this.#terminated) return;
    try {
      const opened = await this.#codec.open(frame);
      if (this.#terminated) return;
      this.#stats.framesReceived++;
      this.#stats.bytesReceived += frame.length;
      if (opened.space === 'control') this.#onControl(opened.seq, decodeAck(opened.body));
      else this.#onData(opened.seq, decodeDataPacket(opened.body));
      // At once, not only with the next ack: what was just delivered is not delivered again after a crash.
      if (opened.space === 'data') this.#persistIfChanged();
    } catch (error) {
      this.#fail(asError(error));
    }
  }

  /** Stops timers and rejects pending sends; for a session that is over or abandoned. */
  dispose(): void {
    this.#terminate(new Error('stream disposed'));
  }

  get stats(): StreamStats {
    return {
      ...this.#stats,
      queuedBytes: this.#queuedBytes,
      inFlightBytes: this.#inFlightBytes,
      inFlightPackets: this.#nextDataSeq - this.#sendBase + (this.#sealing ? 1 : 0),
      reorderBufferedPackets: this.#reorderBuffer.size,
      smoothedRttMs: this.#smoothedRtt,
      rtoMs: this.#rto,
    };
  }

  // ---- sending ----

  /** Moves queued messages (and finally the close) into the window as far as it has room. */
  async #fillWindow(): Promise<void> {
    if (this.#filling) return; // the running fill loop re-checks room and queue after every seal
    this.#filling = true;
    try {
      for (;;) {
        const next = this.#nextOutgoingBody();
        if (!next || !this.#windowHasRoomFor(next.body)) return;
        if (this.#nextDataSeq >= MAX_SEQ) throw new Error('data sequence space exhausted');
        // The seq and the bytes are taken only once sealed, so a snapshot taken meanwhile (an ack
        // going out) holds a state a restored stream can continue from: no seq used without its frame.
        const seq = this.#nextDataSeq;
        this.#sealing = true;
        const frame = await this.#codec.seal('data', seq, next.body).finally(() => (this.#sealing = false));
        if (this.#terminated) return;
        if (frame.length > this.#tuning.maxFrameBytes) {
          throw new Error(`codec sealed ${frame.length} bytes, over the ${this.#tuning.maxFrameBytes}-byte frame limit`);
        }
        this.#nextDataSeq++;
        next.commit(seq);
        const packet: InFlightPacket = { frame, transmissions: 0, lastSentAt: 0, lastSendOrder: 0, sacked: false };
        this.#inFlight.set(seq, packet);
        this.#inFlightBytes += frame.length;
        this.#changedSincePersisted = true;
        if (!this.#paused) {
          this.#transmitData(packet);
          // A timer already armed runs out before this newest packet's.
          this.#lossTimer ??= this.#clock.schedule(this.#rto, () => this.#onLossTimer());
        }
        next.accepted?.();
      }
    } catch (error) {
      this.#fail(asError(error));
    } finally {
      this.#filling = false;
    }
  }

  /**
   * The next packet body to send, with `commit` to take its bytes (after the asynchronous seal; only
   * the one fill loop reads the queue) and `accepted` to call once it is in the window.
   */
  #nextOutgoingBody(): { body: Uint8Array; commit(seq: number): void; accepted?: () => void } | undefined {
    const message = this.#queue[0];
    // An ack owed now rides along (the peer takes it as it takes a control packet); what it covered is
    // no longer owed once the packet is sealed, though more may be owed by then.
    const acksCovered = this.#acksOwed;
    const ack = acksCovered > 0 && !this.#paused ? this.#receiveState() : undefined;
    const ackBytes = ack ? encodeAck(ack).length : 0;
    const settleAck = () => {
      if (!ack) return;
      this.#acksOwed = Math.max(0, this.#acksOwed - acksCovered);
      if (this.#acksOwed === 0) {
        this.#ackTimer?.();
        this.#ackTimer = undefined;
        this.#ackDeadline = Infinity;
      }
      this.#stats.acksPiggybacked++;
    };
    const room = this.#maxChunkBytes - ackBytes;
    if (message) {
      const batch = this.#wholeMessagesFitting(room);
      if (batch.length > 1) {
        const bytes = batch.reduce((total, queued) => total + queued.bytes.length, 0);
        return {
          body: encodeDataPacket({ kind: 'messages', messages: batch.map((queued) => queued.bytes), ack }),
          commit: () => {
            settleAck();
            this.#queue.splice(0, batch.length);
            this.#queuedBytes -= bytes;
            this.#stats.messagesSent += batch.length;
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
          settleAck();
          this.#queuedBytes -= payload.length;
          message.offset = end;
          if (last) {
            this.#queue.shift();
            this.#stats.messagesSent++;
          }
        },
        accepted: last ? () => message.accepted.resolve() : undefined,
      };
    }
    if (this.#ending && this.#closeSeq === undefined) {
      return {
        body: encodeDataPacket({ kind: 'close', ack }),
        commit: (seq) => {
          settleAck();
          this.#closeSeq = seq;
        },
      };
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

  #windowHasRoomFor(body: Uint8Array): boolean {
    return (
      this.#nextDataSeq - this.#sendBase < this.#tuning.windowPackets &&
      this.#inFlightBytes + body.length + SEAL_OVERHEAD_BYTES <= this.#tuning.windowBytes
    );
  }

  #transmitData(packet: InFlightPacket): void {
    if (packet.transmissions > 0) this.#stats.retransmits++;
    packet.transmissions++;
    packet.lastSentAt = this.#clock.now();
    packet.lastSendOrder = ++this.#sendOrder;
    this.#stats.dataFramesSent++;
    this.#sentDataSinceReceived = true;
    this.#transmit(packet.frame);
  }

  #transmit(frame: Uint8Array): void {
    this.#persistIfChanged();
    this.#stats.framesSent++;
    this.#stats.bytesSent += frame.length;
    this.#lastFrameSentAt = this.#clock.now();
    this.#sendFrame(frame);
  }

  #onAck(ack: AckPacket): void {
    const lastRange = ack.ranges.at(-1);
    if (ack.cumulative > this.#nextDataSeq || (lastRange && lastRange.end > this.#nextDataSeq)) {
      throw new PacketFormatError('ack covers data never sent');
    }
    this.#adaptReorderAllowance(ack.duplicates);
    const previousBase = this.#sendBase;
    const delivered: InFlightPacket[] = [];
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
    if (delivered.length === 0 && this.#sendBase === previousBase) return; // a heartbeat or a repeated ack
    this.#changedSincePersisted = true;
    for (const packet of delivered) {
      if (packet.lastSendOrder > this.#newestDeliveredSendOrder) {
        this.#newestDeliveredSendOrder = packet.lastSendOrder;
        this.#newestDeliveredRtt = this.#clock.now() - packet.lastSentAt;
      }
    }
    this.#sampleRtt(delivered);
    if (this.#closeSeq !== undefined && this.#sendBase > this.#closeSeq) this.#ending?.resolve();
    this.#recoverLosses();
    void this.#fillWindow();
  }

  /** Jacobson/Karels (RFC 6298), sampling only packets sent once (Karn) — the newest of them. */
  #sampleRtt(delivered: InFlightPacket[]): void {
    let newestSentAt: number | undefined;
    for (const packet of delivered) {
      if (packet.transmissions === 1 && (newestSentAt === undefined || packet.lastSentAt > newestSentAt)) {
        newestSentAt = packet.lastSentAt;
      }
    }
    if (newestSentAt === undefined) return;
    const sample = this.#clock.now() - newestSentAt;
    if (this.#smoothedRtt === undefined) {
      this.#smoothedRtt = sample;
      this.#rttVariance = sample / 2;
    } else {
      this.#rttVariance = 0.75 * this.#rttVariance + 0.25 * Math.abs(this.#smoothedRtt - sample);
      this.#smoothedRtt = 0.875 * this.#smoothedRtt + 0.125 * sample;
    }
    this.#rto = this.#clampRto(this.#smoothedRtt + 4 * this.#rttVariance + this.#peerMaxAckDelayMs());
  }

  /**
   * How long the peer may hold an ack (as QUIC adds max_ack_delay to its probe timeout): the peer is
   * assumed to use this side's ack delays, so a held ack never looks like a loss.
   */
  #peerMaxAckDelayMs(): number {
    return Math.max(this.#tuning.ackDelayMs, this.#tuning.answerAckDelayMs);
  }

  /**
   * RACK-style loss detection (RFC 8985), by time rather than by count, because the relay reorders
   * whole bursts: a packet is lost once a packet sent after it has been delivered and it has had a
   * round trip plus the reordering allowance to arrive too. Then re-arms the one loss timer for the
   * next such deadline or the retransmission timeout, whichever comes first.
   */
  #recoverLosses(): void {
    this.#lossTimer?.();
    this.#lossTimer = undefined;
    if (this.#paused || this.#terminated) return;
    const now = this.#clock.now();
    // A round trip (the newest delivery's reflects the path now, even when a timeout left no clean
    // sample) plus the usual variation: acks queue behind the peer's own bursts, so a fixed share of
    // the RTT, as RACK uses, resends many packets that were only late.
    const roundTrip = Math.max(this.#smoothedRtt ?? 0, this.#newestDeliveredRtt);
    const patience = roundTrip + Math.max(this.#tuning.minReorderWindowMs, 4 * this.#rttVariance) * this.#reorderScale;
    let nextDeadline = Infinity;
    for (const packet of this.#outstanding()) {
      if (packet.lastSendOrder >= this.#newestDeliveredSendOrder) continue; // nothing sent later has arrived yet
      if (packet.lastSentAt + patience <= now) this.#transmitData(packet);
      else nextDeadline = Math.min(nextDeadline, packet.lastSentAt + patience);
    }
    const oldest = this.#oldestOutstanding();
    if (oldest) nextDeadline = Math.min(nextDeadline, oldest.lastSentAt + this.#rto);
    // Whole milliseconds, as for heartbeats: a sub-ulp delay could leave the clock where it is.
    if (nextDeadline < Infinity) this.#lossTimer = this.#clock.schedule(Math.ceil(nextDeadline - now), () => this.#onLossTimer());
  }

  /**
   * Duplicates at the peer mean packets were resent that were only late (RFC 8985 §6.2 adapts the same
   * way from D-SACKs), and resending feeds the queues that made them late: double the reordering
   * allowance, at most once per round trip; halve it after 16 round trips without new duplicates.
   */
  #adaptReorderAllowance(peerDuplicates: number): void {
    const now = this.#clock.now();
    const roundTrip = this.#smoothedRtt ?? this.#tuning.initialRtoMs;
    if (peerDuplicates > this.#peerDuplicates) {
      this.#peerDuplicates = peerDuplicates;
      if (now - this.#reorderScaleChangedAt >= roundTrip) {
        this.#reorderScale = Math.min(this.#reorderScale * 2, MAX_REORDER_SCALE);
        this.#reorderScaleChangedAt = now;
      }
    } else if (this.#reorderScale > 1 && now - this.#reorderScaleChangedAt >= 16 * roundTrip) {
      this.#reorderScale /= 2;
      this.#reorderScaleChangedAt = now;
    }
  }

  /**
   * On a retransmission timeout only the oldest packet is resent, as a probe: its ack shows what else
   * is missing, and loss detection resends exactly that. A spurious timeout thus costs one packet, not a window.
   */
  #onLossTimer(): void {
    this.#lossTimer = undefined;
    const oldest = this.#oldestOutstanding();
    if (oldest && oldest.lastSentAt + this.#rto <= this.#clock.now()) {
      this.#transmitData(oldest);
      this.#rto = this.#clampRto(this.#rto * 2);
    }
    this.#recoverLosses();
  }

  /** Sent, neither acked nor selectively acked. */
  *#outstanding(): Generator<InFlightPacket> {
    for (const packet of this.#inFlight.values()) {
      if (!packet.sacked && packet.transmissions > 0) yield packet;
    }
  }

  #oldestOutstanding(): InFlightPacket | undefined {
    let oldest: InFlightPacket | undefined;
    for (const packet of this.#outstanding()) {
      if (!oldest || packet.lastSentAt < oldest.lastSentAt) oldest = packet;
    }
    return oldest;
  }

  #clampRto(rto: number): number {
    return Math.min(this.#tuning.maxRtoMs, Math.max(this.#tuning.minRtoMs, rto));
  }

  #armHeartbeat(delay = this.#tuning.heartbeatIntervalMs): void {
    this.#heartbeatTimer?.();
    this.#heartbeatTimer = undefined;
    if (this.#paused || this.#terminated) return;
    this.#heartbeatTimer = this.#clock.schedule(delay, () => {
      const idleFor = this.#clock.now() - this.#lastFrameSentAt;
      if (idleFor >= this.#tuning.heartbeatIntervalMs) {
        this.#stats.heartbeatsSent++;
        this.#sendAck();
        this.#armHeartbeat();
      } else {
        // Whole milliseconds: a sub-ulp remainder would schedule the timer at the same instant forever.
        this.#armHeartbeat(Math.ceil(this.#tuning.heartbeatIntervalMs - idleFor));
      }
    });
  }

  // ---- receiving ----

  #onControl(seq: number, ack: AckPacket): void {
    if (seq <= this.#newestControlSeq) {
      this.#stats.staleControlFrames++;
      return;
    }
    this.#newestControlSeq = seq;
    this.#onAck(ack);
  }

  #onData(seq: number, packet: DataPacket): void {
    // An ack riding on data, perhaps older than one already seen (a resent frame carries the ack of its
    // first sending): acks only ever add what arrived, so an old one changes nothing.
    if (packet.ack) this.#onAck(packet.ack);
    // Owed before anything is delivered, so an answer a listener sends at once (an echo) carries the ack.
    // Duplicates and drops are acked too: they mean the sender has not heard our acks.
    this.#acksOwed++;
    this.#changedSincePersisted = true;
    // Filling the gap is acked at once, before the sender, seeing later packets acked, resends this one.
    const fillsGap = seq === this.#nextExpected && this.#reorderBuffer.size > 0;
    // A lone packet in order, after this side sent data of its own: its answer (or this side's next
    // message) will likely carry the ack, so it may wait longer. Anything out of order is acked promptly.
    const answerLikely = this.#sentDataSinceReceived && seq === this.#nextExpected && this.#reorderBuffer.size === 0;
    this.#sentDataSinceReceived = false;
    if (seq < this.#nextExpected || this.#reorderBuffer.has(seq)) {
      this.#stats.duplicateFrames++;
    } else if (seq >= this.#nextExpected + this.#tuning.reorderBufferPackets) {
      this.#stats.framesBeyondBuffer++;
    } else {
      this.#reorderBuffer.set(seq, packet);
      this.#deliverInOrder();
    }
    // A close is acked at once: the peer's end() waits for it, and no answer follows a close.
    this.#scheduleAck(fillsGap || packet.kind === 'close', answerLikely);
  }

  #deliverInOrder(): void {
    for (let packet = this.#reorderBuffer.get(this.#nextExpected); packet; packet = this.#reorderBuffer.get(this.#nextExpected)) {
      if (this.#terminated) return; // a listener disposed the stream
      this.#reorderBuffer.delete(this.#nextExpected);
      this.#nextExpected++;
      if (this.#remoteClosed) throw new PacketFormatError('data after close');
      if (packet.kind === 'close') {
        if (this.#partialMessage.length > 0) throw new PacketFormatError('close inside a message');
        this.#remoteClosed = true;
        this.emit('close');
      } else if (packet.kind === 'messages') {
        if (this.#partialMessage.length > 0) throw new PacketFormatError('whole messages inside a message');
        for (const message of packet.messages) {
          if (this.#terminated) return;
          this.#stats.messagesReceived++;
          this.emit('message', message.slice());
        }
      } else {
        this.#partialMessage.push(packet.payload);
        if (packet.kind === 'last-chunk') {
          const message = concatenate(this.#partialMessage);
          this.#partialMessage = [];
          this.#stats.messagesReceived++;
          this.emit('message', message);
        }
      }
    }
  }

  #scheduleAck(urgent: boolean, answerLikely: boolean): void {
    // Paused: resume() acks. Nothing owed: an answer sent during delivery carried it.
    if (this.#paused || this.#acksOwed === 0) return;
    if (urgent || this.#acksOwed >= this.#tuning.ackEveryPackets) return this.#sendAck();
    // The earliest deadline wins: a second packet owed ends a longer wait for the first one's answer.
    const delay = answerLikely && this.#acksOwed === 1 ? this.#tuning.answerAckDelayMs : this.#tuning.ackDelayMs;
    const deadline = this.#clock.now() + delay;
    if (this.#ackTimer && this.#ackDeadline <= deadline) return;
    this.#ackTimer?.();
    this.#ackDeadline = deadline;
    this.#ackTimer = this.#clock.schedule(delay, () => this.#sendAck());
  }

  /** Sends our receive state. Seq and contents are fixed together, so the newest seq carries the newest state. */
  #sendAck(): void {
    this.#ackTimer?.();
    this.#ackTimer = undefined;
    this.#ackDeadline = Infinity;
    if (this.#paused || this.#terminated) return; // resume() sends a fresh ack
    this.#acksOwed = 0;
    if (this.#nextControlSeq > MAX_SEQ) return this.#fail(new Error('control sequence space exhausted'));
    const seq = this.#nextControlSeq++;
    this.#changedSincePersisted = true;
    const body = encodeAck(this.#receiveState());
    this.#codec.seal('control', seq, body).then(
      (frame) => {
        if (this.#paused || this.#terminated) return;
        this.#stats.controlFramesSent++;
        this.#transmit(frame);
      },
      (error) => this.#fail(asError(error)),
    );
  }

  /** What this side has received, as an ack reports it. */
  #receiveState(): AckPacket {
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

  // ---- ending ----

  #fail(error: Error): void {
    if (this.#terminated) return;
    this.#terminate(error);
    this.emit('error', error);
  }

  #terminate(reason: Error): void {
    if (this.#terminated) return;
    this.#terminated = reason;
    this.#stopTimers();
    for (const message of this.#queue.splice(0)) message.accepted.reject(reason);
    this.#ending?.reject(reason);
  }

  #stopTimers(): void {
    for (const cancel of [this.#lossTimer, this.#heartbeatTimer, this.#ackTimer]) cancel?.();
    this.#lossTimer = this.#heartbeatTimer = this.#ackTimer = undefined;
    this.#ackDeadline = Infinity;
  }
}

function validateTuning(tuning: StreamTuning): StreamTuning {
  for (const [name, value] of Object.entries(tuning)) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number ≥ 0, got ${value}`);
  }
  const check = (condition: boolean, message: string) => {
    if (!condition) throw new RangeError(message);
  };
  check(tuning.maxFrameBytes > SEAL_OVERHEAD_BYTES + DATA_HEADER_BYTES, 'maxFrameBytes leaves no room for data');
  check(tuning.windowBytes >= tuning.maxFrameBytes, 'windowBytes must hold at least one frame');
  check(tuning.windowPackets >= 1 && tuning.reorderBufferPackets >= 1, 'window and reorder buffer need at least one packet');
  check(tuning.ackEveryPackets >= 1, 'ackEveryPackets must be at least 1');
  check(tuning.heartbeatIntervalMs > 0, 'heartbeatIntervalMs must be positive');
  check(
    0 < tuning.minRtoMs && tuning.minRtoMs <= tuning.initialRtoMs && tuning.initialRtoMs <= tuning.maxRtoMs,
    'RTOs must satisfy 0 < minRtoMs ≤ initialRtoMs ≤ maxRtoMs',
  );
  return tuning;
}

/** Drops keys explicitly set to undefined so they do not override defaults. */
function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
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

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

// ReliableStream: an ordered, reliable message stream over a frame transport that may reorder,
// drop and duplicate frames (the relay runs each frame in its own, possibly concurrent, Lambda).
// It knows nothing about WebSockets: it is given `sendFrame` and fed received frames.
//
// Data packets carry a per-direction u32 seq; the receiver acks cumulatively plus selective ranges,
// so a dropped frame costs one retransmission. Every sealed frame is cached and resent byte for byte.
//
// This class composes the parts in sdk/stream/ and owns what they must not: the codec (sealing is
// asynchronous), the clock and its timers, the transport, persistence and the events. The parts are
// pure state machines: the sender (queue, batching, window, what acks settle), the receiver (reorder,
// reassembly, receive state), the ack policy (when to acknowledge), RTT and loss detection.

import { systemClock, type CancelTimer, type Clock } from './clock.js';
import { createPlainCodec, MAX_SEQ, SEAL_OVERHEAD_BYTES, type FrameCodec } from './codec.js';
import { Emitter } from './emitter.js';
import { DATA_HEADER_BYTES, decodeAck, decodeDataPacket, encodeAck, type AckPacket, type DataPacket } from './packets.js';
import { AckPolicy } from './stream/ack-policy.js';
import { LossDetector } from './stream/loss.js';
import { StreamReceiver, type ReceiverSnapshot } from './stream/receiver.js';
import { karnSample, RttEstimator } from './stream/rtt.js';
import { StreamSender, type SenderSnapshot, type SentPacket } from './stream/sender.js';
import { streamTuning, type StreamTuning } from './stream/tuning.js';

export { DEFAULT_STREAM_TUNING, type StreamTuning } from './stream/tuning.js';

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
export interface StreamSnapshot extends SenderSnapshot, ReceiverSnapshot {
  nextControlSeq: number;
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

/**
 * The stream's three independent states (a failure, #terminated, ends them all).
 *
 *   link:      live ──pause() (connection lost, or restored from a snapshot)──▶ paused ──resume()──▶ live
 *              Paused, nothing is sent: data waits in the window, acks and heartbeats are not owed.
 *   fill:      idle ──a message to send──▶ filling ──seal──▶ sealing ──sealed──▶ filling ──no room or nothing queued──▶ idle
 *              One fill loop at a time; a packet being sealed counts as in flight, though its seq is not taken yet.
 *   persisted: saved ──any change a snapshot holds──▶ changed ──persistWith's callback before a frame leaves──▶ saved
 */
type StreamState = {
  link: 'live' | 'paused';
  fill: 'idle' | 'filling' | 'sealing';
  persisted: 'saved' | 'changed';
};

export class ReliableStream extends Emitter<StreamEvents> {
  readonly #tuning: StreamTuning;
  readonly #sendFrame: (frame: Uint8Array) => void;
  readonly #codec: FrameCodec;
  readonly #clock: Clock;
  readonly #maxChunkBytes: number;
  readonly #sender: StreamSender;
  readonly #receiver: StreamReceiver;
  readonly #acks: AckPolicy;
  readonly #rtt: RttEstimator;
  readonly #loss: LossDetector;
  #state: StreamState;
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
    framesReceived: 0,
    bytesReceived: 0,
  };
  #nextControlSeq = 0;
  #lastFrameSentAt: number;
  /** Fires at the next reorder deadline or retransmission timeout. */
  #lossTimer: CancelTimer | undefined;
  #heartbeatTimer: CancelTimer | undefined;
  #ackTimer: CancelTimer | undefined;
  /** When the armed ack timer fires. */
  #ackDeadline = Infinity;
  /** Called before a frame leaves when the state changed since the last call (persistWith). */
  #persist: ((snapshot: StreamSnapshot) => void) | undefined;

  constructor(options: ReliableStreamOptions) {
    super();
    const { sendFrame, codec, clock, paused, restore, ...tuning } = options;
    this.#tuning = streamTuning(tuning);
    this.#sendFrame = sendFrame;
    this.#codec = codec ?? createPlainCodec();
    this.#clock = clock ?? systemClock;
    this.#maxChunkBytes = this.#tuning.maxFrameBytes - SEAL_OVERHEAD_BYTES - DATA_HEADER_BYTES;
    this.#sender = new StreamSender(this.#tuning, restore);
    this.#receiver = new StreamReceiver(this.#tuning.reorderBufferPackets, restore);
    this.#acks = new AckPolicy(this.#tuning);
    this.#rtt = new RttEstimator(this.#tuning);
    this.#loss = new LossDetector(this.#tuning);
    this.#nextControlSeq = restore?.nextControlSeq ?? 0;
    this.#state = { link: paused ? 'paused' : 'live', fill: 'idle', persisted: 'changed' };
    this.#lastFrameSentAt = this.#clock.now();
    this.#armHeartbeat();
    // A restored stream owes the peer everything it holds unacknowledged, as after an outage.
    if (restore && this.#state.link === 'live') {
      this.#state.link = 'paused';
      this.resume();
    }
  }

  /**
   * What this stream must remember to continue elsewhere (restore). Taken between seals: a packet
   * being sealed now is not in it, and its seq is not counted as used.
   */
  snapshot(): StreamSnapshot {
    return { ...this.#sender.snapshot(), nextControlSeq: this.#nextControlSeq, ...this.#receiver.snapshot() };
  }

  /**
   * Calls `save` synchronously before any frame leaves whenever the stream's state changed since the
   * last call, and once now: a process that crashes and restores the last snapshot never reseals a
   * seq the peer has seen (which would reuse a nonce) and never forgets data it has acknowledged.
   * Retransmissions and repeated acks of an unchanged state do not call it again.
   */
  persistWith(save: ((snapshot: StreamSnapshot) => void) | undefined): void {
    this.#persist = save;
    this.#state.persisted = 'changed';
    this.#persistIfChanged();
  }

  #persistIfChanged(): void {
    if (!this.#persist || this.#state.persisted === 'saved') return;
    this.#state.persisted = 'saved';
    this.#persist(this.snapshot());
  }

  /** Resolves once the whole message is in the send window; keep `message` unchanged until then. */
  send(message: Uint8Array): Promise<void> {
    if (this.#terminated) return Promise.reject(this.#terminated);
    if (this.#sender.ending) return Promise.reject(new Error('stream is ending: no more messages'));
    const accepted = this.#sender.enqueue(message);
    this.#state.persisted = 'changed';
    // Kept before send() returns, so a crash after it does not lose the message even if the window is full.
    this.#persistIfChanged();
    void this.#fillWindow();
    return accepted;
  }

  sendText(text: string): Promise<void> {
    return this.send(new TextEncoder().encode(text));
  }

  /** Sends an authenticated close after every queued message; resolves when the peer acked it all. */
  end(): Promise<void> {
    if (this.#terminated) return Promise.reject(this.#terminated);
    if (!this.#sender.ending) {
      void this.#sender.end();
      this.#state.persisted = 'changed';
      this.#persistIfChanged();
      void this.#fillWindow();
    }
    return this.#sender.end();
  }

  /** True once the peer's close arrived after all its data: an orderly end rather than a cut. */
  get remoteClosed(): boolean {
    return this.#receiver.remoteClosed;
  }

  /** Transport down: send nothing, keep all state. Received frames are still processed. */
  pause(): void {
    if (this.#state.link === 'paused') return;
    this.#state.link = 'paused';
    this.#stopTimers();
  }

  /** Transport back: report what we hold and resend everything unacked at once. */
  resume(): void {
    if (this.#state.link === 'live' || this.#terminated) return;
    this.#state.link = 'live';
    this.#lastFrameSentAt = this.#clock.now();
    this.#sendAck();
    for (const packet of this.#sender.unacknowledged()) this.#transmitData(packet);
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
    const { framesReceived, bytesReceived, ...sending } = this.#stats;
    const { messagesSent, queuedBytes, inFlightBytes, inFlightPackets } = this.#sender.stats;
    const { reorderBufferedPackets, ...received } = this.#receiver.stats;
    return {
      ...sending,
      messagesSent,
      framesReceived,
      bytesReceived,
      ...received,
      queuedBytes,
      inFlightBytes,
      inFlightPackets: inFlightPackets + (this.#state.fill === 'sealing' ? 1 : 0),
      reorderBufferedPackets,
      smoothedRttMs: this.#rtt.smoothedMs,
      rtoMs: this.#rtt.rtoMs,
    };
  }

  // ---- sending ----

  /** Moves queued messages (and finally the close) into the window as far as it has room. */
  async #fillWindow(): Promise<void> {
    if (this.#state.fill !== 'idle') return; // the running fill loop re-checks room and queue after every seal
    this.#state.fill = 'filling';
    try {
      for (;;) {
        const next = this.#nextOutgoing();
        if (!next || !this.#sender.hasRoomFor(next.body)) return;
        if (this.#sender.exhausted) throw new Error('data sequence space exhausted');
        // The seq and the bytes are taken only once sealed, so a snapshot taken meanwhile (an ack
        // going out) holds a state a restored stream can continue from: no seq used without its frame.
        const seq = this.#sender.nextSeq;
        this.#state.fill = 'sealing';
        const frame = await this.#codec.seal('data', seq, next.body).finally(() => (this.#state.fill = 'filling'));
        if (this.#terminated) return;
        if (frame.length > this.#tuning.maxFrameBytes) {
          throw new Error(`codec sealed ${frame.length} bytes, over the ${this.#tuning.maxFrameBytes}-byte frame limit`);
        }
        const packet = this.#sender.sealed(frame);
        next.commit(seq);
        this.#state.persisted = 'changed';
        if (this.#state.link === 'live') {
          this.#transmitData(packet);
          // A timer already armed runs out before this newest packet's.
          this.#lossTimer ??= this.#clock.schedule(this.#rtt.rtoMs, () => this.#onLossTimer());
        }
        next.accepted?.();
      }
    } catch (error) {
      this.#fail(asError(error));
    } finally {
      this.#state.fill = 'idle';
    }
  }

  /** The sender's next packet, with the ack owed now riding along (the peer takes it as it takes a control packet). */
  #nextOutgoing(): ReturnType<StreamSender['next']> {
    // What the ack covered is no longer owed once the packet is sealed, though more may be owed by then.
    const acksCovered = this.#acks.owed;
    const ack = acksCovered > 0 && this.#state.link === 'live' ? this.#receiver.ackState() : undefined;
    const next = this.#sender.next(this.#maxChunkBytes - (ack ? encodeAck(ack).length : 0), ack);
    if (!next || !ack) return next;
    return {
      ...next,
      commit: (seq) => {
        if (this.#acks.covered(acksCovered)) this.#cancelAckTimer();
        this.#stats.acksPiggybacked++;
        next.commit(seq);
      },
    };
  }

  #transmitData(packet: SentPacket): void {
    if (this.#sender.transmitted(packet, this.#clock.now())) this.#stats.retransmits++;
    this.#stats.dataFramesSent++;
    this.#acks.dataSent();
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
    const now = this.#clock.now();
    const delivered = this.#sender.acked(ack);
    // Before knowing whether the ack is new: a repeated one still reports the peer's duplicates.
    this.#loss.peerReported(ack.duplicates, now, this.#rtt.smoothedMs);
    if (!delivered) return; // a heartbeat or a repeated ack
    this.#state.persisted = 'changed';
    this.#loss.delivered(delivered, now);
    const sample = karnSample(delivered, now);
    if (sample !== undefined) this.#rtt.sample(sample);
    this.#recoverLosses();
    void this.#fillWindow();
  }

  /** Resends what loss detection finds lost, then re-arms the one loss timer for the next reorder deadline or the retransmission timeout. */
  #recoverLosses(): void {
    this.#lossTimer?.();
    this.#lossTimer = undefined;
    if (this.#state.link === 'paused' || this.#terminated) return;
    const now = this.#clock.now();
    const { lost, nextDeadline } = this.#loss.detect(this.#sender.outstanding(), now, this.#rtt);
    for (const packet of lost) this.#transmitData(packet);
    const oldest = this.#sender.oldestOutstanding();
    const deadline = oldest ? Math.min(nextDeadline, oldest.lastSentAt + this.#rtt.rtoMs) : nextDeadline;
    // Whole milliseconds, as for heartbeats: a sub-ulp delay could leave the clock where it is.
    if (deadline < Infinity) this.#lossTimer = this.#clock.schedule(Math.ceil(deadline - now), () => this.#onLossTimer());
  }

  /**
   * On a retransmission timeout only the oldest packet is resent, as a probe: its ack shows what else
   * is missing, and loss detection resends exactly that. A spurious timeout thus costs one packet, not a window.
   */
  #onLossTimer(): void {
    this.#lossTimer = undefined;
    const oldest = this.#sender.oldestOutstanding();
    if (oldest && oldest.lastSentAt + this.#rtt.rtoMs <= this.#clock.now()) {
      this.#transmitData(oldest);
      this.#rtt.backOff();
    }
    this.#recoverLosses();
  }

  #armHeartbeat(delay = this.#tuning.heartbeatIntervalMs): void {
    this.#heartbeatTimer?.();
    this.#heartbeatTimer = undefined;
    if (this.#state.link === 'paused' || this.#terminated) return;
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
    if (this.#receiver.controlArrived(seq)) this.#onAck(ack);
  }

  #onData(seq: number, packet: DataPacket): void {
    // An ack riding on data, perhaps older than one already seen (a resent frame carries the ack of its
    // first sending): acks only ever add what arrived, so an old one changes nothing.
    if (packet.ack) this.#onAck(packet.ack);
    const arrival = this.#receiver.dataArrived(seq, packet);
    // Owed before anything is delivered, so an answer a listener sends at once (an echo) carries the ack.
    const answerLikely = this.#acks.dataReceived(arrival.loneInOrder);
    this.#state.persisted = 'changed';
    this.#deliver();
    // Filling the gap is acked at once, before the sender, seeing later packets acked, resends this one.
    // A close is acked at once: the peer's end() waits for it, and no answer follows a close.
    this.#scheduleAck(arrival.fillsGap || packet.kind === 'close', answerLikely);
  }

  /** Hands on what the receiver completed, stopping if a listener disposed the stream. */
  #deliver(): void {
    const deliveries = this.#receiver.deliverable();
    while (!this.#terminated) {
      const { value: delivery, done } = deliveries.next();
      if (done) return;
      if (delivery.kind === 'close') this.emit('close');
      else this.emit('message', delivery.message);
    }
  }

  #scheduleAck(urgent: boolean, answerLikely: boolean): void {
    // Paused: resume() acks. Nothing owed: an answer sent during delivery carried it.
    if (this.#state.link === 'paused') return;
    const delay = this.#acks.delay(urgent, answerLikely);
    if (delay === undefined) return;
    if (delay === 'now') return this.#sendAck();
    // The earliest deadline wins: a second packet owed ends a longer wait for the first one's answer.
    const deadline = this.#clock.now() + delay;
    if (this.#ackTimer && this.#ackDeadline <= deadline) return;
    this.#ackTimer?.();
    this.#ackDeadline = deadline;
    this.#ackTimer = this.#clock.schedule(delay, () => this.#sendAck());
  }

  #cancelAckTimer(): void {
    this.#ackTimer?.();
    this.#ackTimer = undefined;
    this.#ackDeadline = Infinity;
  }

  /** Sends our receive state. Seq and contents are fixed together, so the newest seq carries the newest state. */
  #sendAck(): void {
    this.#cancelAckTimer();
    if (this.#state.link === 'paused' || this.#terminated) return; // resume() sends a fresh ack
    this.#acks.acked();
    if (this.#nextControlSeq > MAX_SEQ) return this.#fail(new Error('control sequence space exhausted'));
    const seq = this.#nextControlSeq++;
    this.#state.persisted = 'changed';
    const body = encodeAck(this.#receiver.ackState());
    this.#codec.seal('control', seq, body).then(
      (frame) => {
        if (this.#state.link === 'paused' || this.#terminated) return;
        this.#stats.controlFramesSent++;
        this.#transmit(frame);
      },
      (error) => this.#fail(asError(error)),
    );
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
    this.#sender.terminate(reason);
  }

  #stopTimers(): void {
    for (const cancel of [this.#lossTimer, this.#heartbeatTimer]) cancel?.();
    this.#lossTimer = this.#heartbeatTimer = undefined;
    this.#cancelAckTimer();
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

// Round-trip time and the retransmission timeout (RFC 6298, Jacobson/Karels). Pure: it is told
// the samples and keeps no clock.

import type { StreamTuning } from './tuning.js';

export type RttTuning = Pick<StreamTuning, 'initialRtoMs' | 'minRtoMs' | 'maxRtoMs' | 'ackDelayMs' | 'answerAckDelayMs'>;

export class RttEstimator {
  readonly #tuning: RttTuning;
  #smoothed: number | undefined;
  #variance = 0;
  #rto: number;

  constructor(tuning: RttTuning) {
    this.#tuning = tuning;
    this.#rto = tuning.initialRtoMs;
  }

  /** Undefined until the first sample. */
  get smoothedMs(): number | undefined {
    return this.#smoothed;
  }

  get varianceMs(): number {
    return this.#variance;
  }

  /** The retransmission timeout. */
  get rtoMs(): number {
    return this.#rto;
  }

  /** A round trip measured on a packet sent once (Karn: a resent one's ack may answer either sending). */
  sample(ms: number): void {
    if (this.#smoothed === undefined) {
      this.#smoothed = ms;
      this.#variance = ms / 2;
    } else {
      this.#variance = 0.75 * this.#variance + 0.25 * Math.abs(this.#smoothed - ms);
      this.#smoothed = 0.875 * this.#smoothed + 0.125 * ms;
    }
    this.#rto = this.#clamp(this.#smoothed + 4 * this.#variance + this.#peerMaxAckDelayMs());
  }

  /** The timeout ran out: wait twice as long for the next one. */
  backOff(): void {
    this.#rto = this.#clamp(this.#rto * 2);
  }

  /**
   * How long the peer may hold an ack (as QUIC adds max_ack_delay to its probe timeout): the peer is
   * assumed to use this side's ack delays, so a held ack never looks like a loss.
   */
  #peerMaxAckDelayMs(): number {
    return Math.max(this.#tuning.ackDelayMs, this.#tuning.answerAckDelayMs);
  }

  #clamp(rto: number): number {
    return Math.min(this.#tuning.maxRtoMs, Math.max(this.#tuning.minRtoMs, rto));
  }
}

/**
 * The round trip to sample from the packets an ack just delivered: the newest of those sent only once
 * (Karn), or undefined when every one of them was resent.
 */
export function karnSample(delivered: Iterable<{ transmissions: number; lastSentAt: number }>, now: number): number | undefined {
  let newestSentAt: number | undefined;
  for (const packet of delivered) {
    if (packet.transmissions === 1 && (newestSentAt === undefined || packet.lastSentAt > newestSentAt)) newestSentAt = packet.lastSentAt;
  }
  return newestSentAt === undefined ? undefined : now - newestSentAt;
}

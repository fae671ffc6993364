// Loss detection, RACK-style (RFC 8985): by time rather than by count, because the relay reorders
// whole bursts. Pure: it is told what was sent, what arrived and what time it is, and answers which
// packets are lost and when to look again; the stream resends and arms the timer.

import type { RttEstimator } from './rtt.js';
import type { SentPacket } from './sender.js';

/** Caps the reordering allowance at 16 times its base: beyond that the retransmission timeout acts first anyway. */
const MAX_REORDER_SCALE = 16;

export interface LossVerdict {
  /** Outstanding packets that count as lost now: resend them. */
  lost: SentPacket[];
  /** When the next outstanding packet's reordering allowance runs out (Infinity: none waits for one). */
  nextDeadline: number;
}

export class LossDetector {
  readonly #minReorderWindowMs: number;
  readonly #initialRtoMs: number;
  /** Latest transmission, by send order, known to have arrived, and how long its round trip took. */
  #newestDeliveredSendOrder = 0;
  #newestDeliveredRtt = 0;
  /** Multiplies the reordering allowance; grows while the peer reports duplicates. */
  #reorderScale = 1;
  #reorderScaleChangedAt = -Infinity;
  /** Duplicates the peer last reported receiving. */
  #peerDuplicates = 0;

  constructor(tuning: { minReorderWindowMs: number; initialRtoMs: number }) {
    this.#minReorderWindowMs = tuning.minReorderWindowMs;
    this.#initialRtoMs = tuning.initialRtoMs;
  }

  /** Multiplier of the reordering allowance now (1 to 16). */
  get reorderScale(): number {
    return this.#reorderScale;
  }

  /** An ack delivered `packets` at `now`. */
  delivered(packets: Iterable<SentPacket>, now: number): void {
    for (const packet of packets) {
      if (packet.lastSendOrder > this.#newestDeliveredSendOrder) {
        this.#newestDeliveredSendOrder = packet.lastSendOrder;
        this.#newestDeliveredRtt = now - packet.lastSentAt;
      }
    }
  }

  /**
   * Duplicates at the peer mean packets were resent that were only late (RFC 8985 §6.2 adapts the same
   * way from D-SACKs), and resending feeds the queues that made them late: double the reordering
   * allowance, at most once per round trip; halve it after 16 round trips without new duplicates.
   */
  peerReported(peerDuplicates: number, now: number, smoothedRttMs: number | undefined): void {
    const roundTrip = smoothedRttMs ?? this.#initialRtoMs;
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
   * A packet is lost once a packet sent after it has been delivered and it has had a round trip plus
   * the reordering allowance to arrive too.
   */
  detect(outstanding: Iterable<SentPacket>, now: number, rtt: RttEstimator): LossVerdict {
    // A round trip (the newest delivery's reflects the path now, even when a timeout left no clean
    // sample) plus the usual variation: acks queue behind the peer's own bursts, so a fixed share of
    // the RTT, as RACK uses, resends many packets that were only late.
    const roundTrip = Math.max(rtt.smoothedMs ?? 0, this.#newestDeliveredRtt);
    const patience = roundTrip + Math.max(this.#minReorderWindowMs, 4 * rtt.varianceMs) * this.#reorderScale;
    const lost: SentPacket[] = [];
    let nextDeadline = Infinity;
    for (const packet of outstanding) {
      if (packet.lastSendOrder >= this.#newestDeliveredSendOrder) continue; // nothing sent later has arrived yet
      if (packet.lastSentAt + patience <= now) lost.push(packet);
      else nextDeadline = Math.min(nextDeadline, packet.lastSentAt + patience);
    }
    return { lost, nextDeadline };
  }
}

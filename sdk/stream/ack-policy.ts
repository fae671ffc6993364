// When the receiver acknowledges: at once, after a short delay to cover more packets, or later
// still in a conversation, where this side's next data packet will likely carry the ack. Pure: it
// counts and answers; the stream arms the timer.

import type { StreamTuning } from './tuning.js';

export type AckTuning = Pick<StreamTuning, 'ackDelayMs' | 'ackEveryPackets' | 'answerAckDelayMs'>;

export class AckPolicy {
  readonly #tuning: AckTuning;
  /** Data packets received (duplicates included) that no ack has reported yet. */
  #owed = 0;
  /** This side sent a data packet since the last data packet it received: an answer to the next one is likely. */
  #sentDataSinceReceived = false;

  constructor(tuning: AckTuning) {
    this.#tuning = tuning;
  }

  get owed(): number {
    return this.#owed;
  }

  /** This side sent a data packet. */
  dataSent(): void {
    this.#sentDataSinceReceived = true;
  }

  /**
   * A data packet arrived (duplicates and drops count too: they mean the sender has not heard our
   * acks). True when an answer from this side is likely to carry the ack: a lone packet in order,
   * after this side sent data of its own. Anything out of order is acked promptly.
   */
  dataReceived(loneInOrder: boolean): boolean {
    this.#owed++;
    const answerLikely = this.#sentDataSinceReceived && loneInOrder;
    this.#sentDataSinceReceived = false;
    return answerLikely;
  }

  /** How long the ack may wait: 'now', a delay in ms, or undefined when nothing is owed. */
  delay(urgent: boolean, answerLikely: boolean): 'now' | number | undefined {
    if (this.#owed === 0) return undefined;
    if (urgent || this.#owed >= this.#tuning.ackEveryPackets) return 'now';
    return answerLikely && this.#owed === 1 ? this.#tuning.answerAckDelayMs : this.#tuning.ackDelayMs;
  }

  /** An ack of its own went out: nothing is owed. */
  acked(): void {
    this.#owed = 0;
  }

  /** A data packet carried an ack covering `count` packets; true if nothing is owed any more. */
  covered(count: number): boolean {
    this.#owed = Math.max(0, this.#owed - count);
    return this.#owed === 0;
  }
}

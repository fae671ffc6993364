// One direction of a relay look-alike: drops, duplicates and delays frames (random delays reorder them),
// and loses every frame that reaches a receiver while it is offline.
import type { Clock } from '../../../../sdk/clock.js';

export interface LinkConditions {
  dropRate: number;
  duplicateRate: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export class LossyLink {
  largestFrame = 0;
  #deliver: (frame: Uint8Array) => void = () => {};

  constructor(
    private readonly clock: Clock,
    private readonly random: () => number,
    private readonly conditions: LinkConditions,
    private readonly receiverOnline: () => boolean = () => true,
  ) {}

  deliverTo(deliver: (frame: Uint8Array) => void): void {
    this.#deliver = deliver;
  }

  readonly send = (frame: Uint8Array): void => {
    this.largestFrame = Math.max(this.largestFrame, frame.length);
    const copies = this.random() < this.conditions.duplicateRate ? 2 : 1;
    for (let copy = 0; copy < copies; copy++) {
      if (this.random() < this.conditions.dropRate) continue;
      const { minDelayMs, maxDelayMs } = this.conditions;
      const delay = minDelayMs + this.random() * (maxDelayMs - minDelayMs);
      this.clock.schedule(delay, () => {
        if (this.receiverOnline()) this.#deliver(frame);
      });
    }
  };
}

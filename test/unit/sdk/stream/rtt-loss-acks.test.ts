// The stream's pure policies on their own: RTT estimation, loss detection, when to acknowledge.
import { describe, expect, it } from 'vitest';
import { AckPolicy } from '../../../../sdk/stream/ack-policy.js';
import { LossDetector } from '../../../../sdk/stream/loss.js';
import { karnSample, RttEstimator } from '../../../../sdk/stream/rtt.js';
import type { SentPacket } from '../../../../sdk/stream/sender.js';
import { DEFAULT_STREAM_TUNING, streamTuning } from '../../../../sdk/stream/tuning.js';

const tuning = { ...DEFAULT_STREAM_TUNING, ackDelayMs: 25, answerAckDelayMs: 250, minRtoMs: 200, maxRtoMs: 30_000, initialRtoMs: 1_000 };
const sent = (lastSendOrder: number, lastSentAt: number, transmissions = 1): SentPacket => ({
  frame: new Uint8Array(1),
  transmissions,
  lastSentAt,
  lastSendOrder,
  sacked: false,
});

describe('RttEstimator', () => {
  it('starts at the initial timeout, follows samples (RFC 6298) plus the peer’s longest ack delay, and backs off within bounds', () => {
    const rtt = new RttEstimator(tuning);
    expect([rtt.smoothedMs, rtt.rtoMs]).toEqual([undefined, 1_000]);
    rtt.sample(100);
    expect([rtt.smoothedMs, rtt.varianceMs, rtt.rtoMs]).toEqual([100, 50, 100 + 4 * 50 + 250]);
    rtt.sample(200);
    expect(rtt.smoothedMs).toBe(0.875 * 100 + 0.125 * 200);
    expect(rtt.varianceMs).toBe(0.75 * 50 + 0.25 * 100);
    for (let i = 0; i < 20; i++) rtt.backOff();
    expect(rtt.rtoMs).toBe(30_000);
  });

  it('samples only packets sent once, the newest of them (Karn)', () => {
    expect(karnSample([sent(1, 10), sent(2, 40), sent(3, 50, 2)], 100)).toBe(60);
    expect(karnSample([sent(3, 50, 2)], 100)).toBeUndefined();
  });
});

describe('LossDetector', () => {
  it('declares lost what was sent before a delivered packet and had a round trip plus the reorder window to arrive', () => {
    const loss = new LossDetector(tuning);
    const rtt = new RttEstimator(tuning);
    const [early, late] = [sent(1, 0), sent(2, 50)];
    // Nothing sent later has arrived: no loss, whatever the time.
    expect(loss.detect([early, late], 10_000, rtt)).toEqual({ lost: [], nextDeadline: Infinity });
    loss.delivered([sent(3, 60)], 100); // a 40 ms round trip
    // patience = 40 + max(10, 4 × 0) = 50
    expect(loss.detect([early, late], 49, rtt)).toEqual({ lost: [], nextDeadline: 50 });
    expect(loss.detect([early, late], 60, rtt)).toEqual({ lost: [early], nextDeadline: 100 });
    expect(loss.detect([early, late], 100, rtt).lost).toEqual([early, late]);
  });

  it('doubles the reorder allowance when the peer reports new duplicates, at most once per round trip, and halves it after 16 quiet ones', () => {
    const loss = new LossDetector(tuning);
    loss.peerReported(1, 0, 100);
    expect(loss.reorderScale).toBe(2);
    loss.peerReported(2, 50, 100);
    expect(loss.reorderScale).toBe(2);
    loss.peerReported(3, 100, 100);
    expect(loss.reorderScale).toBe(4);
    loss.peerReported(3, 100 + 16 * 100 - 1, 100);
    expect(loss.reorderScale).toBe(4);
    loss.peerReported(3, 100 + 16 * 100, 100);
    expect(loss.reorderScale).toBe(2);
    for (let i = 4, now = 2_000; i < 20; i++, now += 100) loss.peerReported(i, now, 100);
    expect(loss.reorderScale).toBe(16);
  });
});

describe('AckPolicy', () => {
  it('acks at once every ackEveryPackets or when urgent, else after the delay, longer for a likely answer', () => {
    const acks = new AckPolicy({ ackDelayMs: 25, ackEveryPackets: 3, answerAckDelayMs: 250 });
    expect(acks.delay(false, false)).toBeUndefined();
    acks.dataSent();
    expect(acks.dataReceived(true)).toBe(true);
    expect(acks.delay(false, true)).toBe(250);
    expect(acks.dataReceived(true)).toBe(false); // no data of ours since the last packet
    expect(acks.delay(false, true)).toBe(25); // a second packet owed ends the longer wait
    expect(acks.delay(true, false)).toBe('now');
    acks.dataReceived(false);
    expect(acks.delay(false, false)).toBe('now');
    acks.acked();
    expect(acks.owed).toBe(0);
  });

  it('counts what a piggybacked ack covered, and what arrived meanwhile as still owed', () => {
    const acks = new AckPolicy({ ackDelayMs: 25, ackEveryPackets: 4, answerAckDelayMs: 250 });
    acks.dataReceived(true);
    acks.dataReceived(true);
    const covered = acks.owed;
    acks.dataReceived(false);
    expect(acks.covered(covered)).toBe(false);
    expect(acks.owed).toBe(1);
    expect(acks.covered(5)).toBe(true);
  });
});

describe('streamTuning', () => {
  it('fills defaults (undefined keeps a default) and refuses values that would fail later', () => {
    expect(streamTuning({ ackDelayMs: undefined }).ackDelayMs).toBe(DEFAULT_STREAM_TUNING.ackDelayMs);
    expect(() => streamTuning({ minRtoMs: 2_000 })).toThrow(RangeError);
    expect(() => streamTuning({ windowBytes: Number.NaN })).toThrow('windowBytes must be a finite number');
  });
});

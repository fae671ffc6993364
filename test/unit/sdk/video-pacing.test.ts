// The pacing both video senders share: what the link acknowledged sets how much may wait before the next frame.
import { describe, expect, it } from 'vitest';
import { AckPolicy } from '../../../sdk/stream/ack-policy.js';
import { DEFAULT_STREAM_TUNING } from '../../../sdk/stream/tuning.js';
import { ThroughputMeter } from '../../../sdk/video-pacing.js';

/**
 * A 15 frames/s share of `chunkBytes` chunks, paced by the meter, to a viewer that sends nothing but acks under
 * the stream's default ack policy, over a path with this round trip and acks up to `ackJitterMs` late (seeded,
 * so the run is the same every time). Millisecond steps.
 */
function share({ roundTripMs, ackJitterMs = 60, chunkBytes = 320, frames = 450 }: { roundTripMs: number; ackJitterMs?: number; chunkBytes?: number; frames?: number }) {
  let seed = 1;
  const random = () => (seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647;
  const meter = new ThroughputMeter();
  const viewer = new AckPolicy(DEFAULT_STREAM_TUNING);
  const arriving: Array<{ at: number; bytes: number }> = [];
  const acksArriving: Array<{ at: number; bytes: number }> = [];
  let owedBytes = 0;
  let ackDue: number | undefined;
  let unacknowledged = 0;
  let skipped = 0;
  let acks = 0;
  const sendAck = (now: number) => {
    acksArriving.push({ at: now + roundTripMs / 2 + random() * ackJitterMs, bytes: owedBytes });
    owedBytes = 0;
    ackDue = undefined;
    viewer.acked();
    acks++;
  };
  const frameMs = 1000 / 15;
  for (let now = 0, nextFrame = 0; now < frames * frameMs; now++) {
    while (arriving[0] && arriving[0].at <= now) {
      owedBytes += arriving.shift()!.bytes;
      const delay = viewer.delay(false, viewer.dataReceived(true));
      if (delay === 'now') sendAck(now);
      else if (delay !== undefined) ackDue ??= now + delay;
    }
    if (ackDue !== undefined && ackDue <= now) sendAck(now);
    for (const ack of acksArriving.filter(({ at }) => at <= now)) {
      unacknowledged -= ack.bytes;
      acksArriving.splice(acksArriving.indexOf(ack), 1);
    }
    if (now < nextFrame) continue;
    nextFrame += frameMs;
    meter.observe(unacknowledged, now);
    if (!meter.mayEncode(unacknowledged)) {
      skipped++;
      continue;
    }
    meter.given(chunkBytes);
    unacknowledged += chunkBytes;
    arriving.push({ at: now + roundTripMs / 2, bytes: chunkBytes });
  }
  return { skipped, acksPerChunk: acks / (frames - skipped) };
}

describe('acknowledged throughput', () => {
  it('measures what the link acknowledged while busy, and lets the queue hold what it carries in 250 ms plus the viewer’s ack delay', () => {
    const meter = new ThroughputMeter();
    expect(meter.queueBudgetBytes).toBe(125_000 * 0.35); // 1 Mbit/s before any measurement, 250 ms plus the viewer's 100 ms ack delay
    meter.observe(0, 0); // idle: no sample
    meter.observe(20_000, 100); // 20 000 bytes wait
    meter.given(30_000); // a frame
    meter.observe(30_000, 300); // 30 000 wait: 20 000 acknowledged in 200 ms, 100 kB/s
    expect(meter.bytesPerSecond).toBeCloseTo(0.7 * 125_000 + 0.3 * 100_000);
    expect(meter.mayEncode(meter.queueBudgetBytes + 1)).toBe(false);
    expect(meter.mayEncode(0)).toBe(true);
  });

  it('a queue that drained says the link is at least that fast, never slower', () => {
    const meter = new ThroughputMeter();
    meter.observe(10_000, 0);
    meter.observe(0, 1000); // 10 kB/s, but it ran dry: no lower estimate
    expect(meter.bytesPerSecond).toBe(125_000);
    meter.observe(200_000, 1000);
    meter.observe(0, 1100); // 2 MB/s
    expect(meter.bytesPerSecond).toBe(2_000_000);
  });

  it('acks held for the viewer’s ack delay do not read as a slower link: a 15 frames/s share skips nothing up to a 150 ms round trip, with an ack per two chunks', () => {
    for (const roundTripMs of [4, 100, 150]) {
      const { skipped, acksPerChunk } = share({ roundTripMs });
      expect(skipped, `${roundTripMs} ms round trip`).toBe(0);
      expect(acksPerChunk).toBeCloseTo(0.5, 1);
    }
  });
});

// The pacing both video senders share: what the link acknowledged sets how much may wait before the next frame.
import { describe, expect, it } from 'vitest';
import { ThroughputMeter } from '../../../sdk/video-pacing.js';

describe('acknowledged throughput', () => {
  it('measures what the link acknowledged while busy, and lets the queue hold what it carries in 250 ms', () => {
    const meter = new ThroughputMeter();
    expect(meter.queueBudgetBytes).toBe(31_250); // 1 Mbit/s before any measurement
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
});

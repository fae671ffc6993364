// The agent's wait between attempts while the relay cannot be reached: at once after a drop, then doubling
// from the initial wait up to the ceiling, each with jitter between half and all of it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, DEFAULT_DEVICE_AGENT_TUNING } from '../../../sdk/device-agent.js';

describe('backoffDelayMs', () => {
  it('is 0 first, then 1, 2, 4 … 60 s at the top of its jitter', () => {
    const delays = Array.from({ length: 9 }, (_, failures) => backoffDelayMs(failures, DEFAULT_DEVICE_AGENT_TUNING, () => 1));
    expect(delays).toEqual([0, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
  });

  it('stays between half and all of its step, and never above the ceiling', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (failures, random) => {
        const delay = backoffDelayMs(failures, DEFAULT_DEVICE_AGENT_TUNING, () => random);
        const step = Math.min(60_000, 1000 * 2 ** Math.min(failures - 1, 30));
        expect(delay).toBeGreaterThanOrEqual(step / 2);
        expect(delay).toBeLessThanOrEqual(step);
      }),
    );
  });
});

// The benchmark prices sessions with docs/cost-and-limits.md's table: an edit to the document that its
// reader no longer understands fails here, not in the middle of a benchmark run.
import { describe, expect, it } from 'vitest';
import { dollarsPerSessionHour, readAwsPrices } from '../../../bench/aws-prices.js';

describe('AWS prices from docs/cost-and-limits.md', () => {
  it('reads every price the session cost needs', async () => {
    const prices = await readAwsPrices();
    expect(prices.perMessage).toBeCloseTo(1e-6);
    expect(prices.perLambdaRequest).toBeCloseTo(0.2e-6);
    expect(prices.perLambdaGbSecond).toBeGreaterThan(0);
    expect(prices.perConnectionMinute).toBeGreaterThan(0);
    expect(prices.frameFunctionGb).toBe(1);
    expect(prices.frameFunctionSeconds).toBeCloseTo(0.015);
  });

  it('agrees with the document’s own sum: about $2.40 per million relayed messages', async () => {
    const prices = await readAwsPrices();
    // A million frames in an hour, each one message in (one invocation) and one post out.
    const dollars = dollarsPerSessionHour(prices, { messagesIn: 1e6, unitsIn: 1e6, unitsOut: 1e6 }, 3600);
    expect(dollars).toBeGreaterThan(2.35);
    expect(dollars).toBeLessThan(2.45);
  });
});

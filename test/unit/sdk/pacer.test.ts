// The SDK's pacing under the stage throttle (sdk/pacer.ts), on the manual clock: nothing sleeps.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultPacing, SendPacer, verifyPacing } from '../../../sdk/pacer.js';
import { DEFAULT_STAGE_THROTTLE } from '../../../shared/core/stage-throttle.js';
import { ManualClock } from './support/manual-clock.js';

function pacer(policy = { messagesPerSecond: 10, burst: 5 }) {
  const clock = new ManualClock();
  const sent: Array<{ text: string; at: number }> = [];
  let delayed = 0;
  const paced = new SendPacer(clock, policy, (text) => sent.push({ text, at: clock.now() }), () => delayed++);
  return { clock, sent, paced, delayed: () => delayed };
}

describe('SendPacer', () => {
  it('defaults to the deployed stage throttle', () => {
    expect(defaultPacing).toEqual({ messagesPerSecond: DEFAULT_STAGE_THROTTLE.messagesPerSecond, burst: DEFAULT_STAGE_THROTTLE.messageBurst });
  });

  it('sends a burst at once, then one message per 1/rate, in order', async () => {
    const { clock, sent, paced, delayed } = pacer();
    for (let n = 0; n < 8; n++) paced.send(`m${n}`);
    expect(sent.map(({ text }) => text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(paced.queued).toBe(3);
    expect(delayed()).toBe(3);
    await clock.advance(99);
    expect(sent).toHaveLength(5);
    await clock.advance(1);
    expect(sent.map(({ text }) => text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    await clock.advance(200);
    expect(sent.map(({ at }) => at)).toEqual([0, 0, 0, 0, 0, 100, 200, 300]);
    expect(paced.queued).toBe(0);
  });

  it('keeps order: a message sent while others wait queues behind them even if a token is free', async () => {
    const { clock, sent, paced } = pacer({ messagesPerSecond: 10, burst: 1 });
    paced.send('a');
    paced.send('b');
    await clock.advance(150); // b went at 100; half a token more has built up
    paced.send('c');
    paced.send('d');
    await clock.advance(1000);
    expect(sent.map(({ text }) => text)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('refills up to the burst after a quiet spell, no further', async () => {
    const { clock, sent, paced } = pacer();
    for (let n = 0; n < 5; n++) paced.send(`early${n}`);
    await clock.advance(60_000);
    for (let n = 0; n < 7; n++) paced.send(`late${n}`);
    expect(sent.filter(({ at }) => at === 60_000)).toHaveLength(5);
  });

  it('never sends more than burst + rate × elapsed, whatever the pattern of sends', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ messagesPerSecond: fc.integer({ min: 1, max: 50 }), burst: fc.integer({ min: 1, max: 20 }) }),
        fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 300 }), count: fc.integer({ min: 0, max: 30 }) }), { maxLength: 20 }),
        async (policy, steps) => {
          const { clock, sent, paced } = pacer(policy);
          let total = 0;
          for (const { gapMs, count } of steps) {
            await clock.advance(gapMs);
            for (let n = 0; n < count; n++) paced.send(String(total++));
          }
          await clock.advance(((total + 1) / policy.messagesPerSecond) * 1000 + 10);
          // Everything went out, in order.
          expect(sent.map(({ text }) => text)).toEqual(Array.from({ length: total }, (_, n) => String(n)));
          // In any window, at most burst + rate × window (plus one for the window's edge).
          for (let i = 0; i < sent.length; i++) {
            for (let j = i; j < sent.length; j++) {
              const windowMs = sent[j]!.at - sent[i]!.at;
              expect(j - i + 1).toBeLessThanOrEqual(policy.burst + Math.floor((windowMs / 1000) * policy.messagesPerSecond) + 1);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('drops what waits when cleared (the connection closed)', async () => {
    const { clock, sent, paced } = pacer({ messagesPerSecond: 10, burst: 1 });
    paced.send('a');
    paced.send('b');
    paced.clear();
    await clock.advance(1000);
    expect(sent.map(({ text }) => text)).toEqual(['a']);
  });

  it('refuses a policy that could send nothing, saying which value', () => {
    expect(() => verifyPacing({ messagesPerSecond: 0, burst: 5 })).toThrow(/pacing.messagesPerSecond must be a positive number, got 0/);
    expect(() => verifyPacing({ messagesPerSecond: 10, burst: 0.5 })).toThrow(/pacing.burst must let at least one message through/);
    expect(() => verifyPacing({ messagesPerSecond: Number.NaN, burst: 5 })).toThrow(/messagesPerSecond/);
  });
});

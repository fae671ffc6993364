// The idle limit's clock work: warnings 5 and 1 minute before the end, activity putting it off (and
// saying so after a warning), the end itself; on a manual clock, so nothing waits.
import { describe, expect, it } from 'vitest';
import { IdleWatch } from '../../../sdk/idle-limit.js';
import { ManualClock } from './support/manual-clock.js';

const SECOND = 1000;

function watch(limitSeconds: number) {
  const clock = new ManualClock();
  const log: string[] = [];
  const idle = new IdleWatch(
    limitSeconds,
    {
      warning: (secondsLeft) => log.push(`warning ${secondsLeft} at ${clock.now() / SECOND}`),
      cleared: () => log.push(`cleared at ${clock.now() / SECOND}`),
      expired: () => log.push(`expired at ${clock.now() / SECOND}`),
    },
    { clock },
  );
  return { clock, log, idle };
}

describe('idle limit', () => {
  it('warns 5 minutes and 1 minute before the end, then ends', async () => {
    const { clock, log, idle } = watch(900);
    idle.start();
    while (await clock.runNext());
    expect(log).toEqual(['warning 300 at 600', 'warning 60 at 840', 'expired at 900']);
    expect(idle.warned).toBe(true);
  });

  it('activity puts the end off; after a warning it says the warning is over, and the warnings start again', async () => {
    const { clock, log, idle } = watch(900);
    idle.start();
    await clock.advance(500 * SECOND);
    idle.touch(); // before any warning: nothing to say
    await clock.advance(700 * SECOND);
    expect(log).toEqual(['warning 300 at 1100']);
    idle.touch();
    expect(idle.warned).toBe(false);
    while (await clock.runNext());
    expect(log).toEqual(['warning 300 at 1100', 'cleared at 1200', 'warning 300 at 1800', 'warning 60 at 2040', 'expired at 2100']);
  });

  it('touching on every message costs no new timers: one is armed at a time', async () => {
    const { clock, log, idle } = watch(900);
    idle.start();
    for (let second = 1; second <= 1000; second++) {
      await clock.advance(SECOND);
      idle.touch();
    }
    expect(log).toEqual([]);
    while (await clock.runNext());
    expect(log).toEqual(['warning 300 at 1600', 'warning 60 at 1840', 'expired at 1900']);
  });

  it('gives only the warnings shorter than the limit', async () => {
    const { clock, log, idle } = watch(120);
    idle.start();
    while (await clock.runNext());
    expect(log).toEqual(['warning 60 at 60', 'expired at 120']);
  });

  it('after a stall gives one warning, with the time really left', async () => {
    const clock = new ManualClock();
    let slept = 0;
    // The time jumps while no timer runs (a sleeping laptop): timers fire late.
    const sleepy = { now: () => clock.now() + slept, schedule: clock.schedule.bind(clock) };
    const log: string[] = [];
    const idle = new IdleWatch(900, { warning: (left) => log.push(`warning ${left}`), cleared: () => log.push('cleared'), expired: () => log.push('expired') }, { clock: sleepy });
    idle.start();
    slept = 250 * SECOND;
    await clock.runNext();
    expect(log).toEqual(['warning 50']);
    while (await clock.runNext());
    expect(log).toEqual(['warning 50', 'expired']);
  });

  it('stop() ends the watch: no warning, no end, touch does nothing', async () => {
    const { clock, log, idle } = watch(900);
    idle.start();
    idle.stop();
    idle.touch();
    expect(await clock.runNext()).toBe(false);
    expect(log).toEqual([]);
  });

  it('refuses a limit that is not a positive number of seconds', () => {
    expect(() => watch(0)).toThrow(RangeError);
    expect(() => watch(Number.NaN)).toThrow('an idle limit is a positive number of seconds');
  });
});

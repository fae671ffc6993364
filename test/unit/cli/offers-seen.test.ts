// The offers a device took lately, kept beside device.json so a restarted agent still refuses a replay: only
// entries still to remember come back, at most MAX_OFFERS_SEEN of the newest, the file only its user can read,
// and a missing or damaged file reads as none.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keepOffersSeen, MAX_OFFERS_SEEN, offersSeenFile, readOffersSeen } from '../../../cli/device-state.js';

const directories: string[] = [];
const directory = () => {
  const made = mkdtempSync(join(tmpdir(), 'offers-seen-'));
  directories.push(made);
  return made;
};
afterEach(() => {
  for (const made of directories.splice(0)) rmSync(made, { recursive: true, force: true });
});

describe('offers seen', () => {
  it('keeps what is still to remember across a restart, in a file only its user can read', () => {
    const here = directory();
    const now = 1_000_000;
    keepOffersSeen(new Map([['old', now - 1], ['fresh', now + 600_000], ['due', now]]), now, here);
    expect(statSync(offersSeenFile(here)).mode & 0o777).toBe(0o600);
    expect(readOffersSeen(now, here)).toEqual(new Map([['fresh', now + 600_000]]));
    // Read later, what has come due is gone too.
    expect(readOffersSeen(now + 600_000, here)).toEqual(new Map());
  });

  it('keeps at most MAX_OFFERS_SEEN, the newest', () => {
    const here = directory();
    const seen = new Map(Array.from({ length: MAX_OFFERS_SEEN + 5 }, (_, index) => [`signature-${index}`, 10_000 + index] as const));
    keepOffersSeen(seen, 0, here);
    const kept = readOffersSeen(0, here);
    expect(kept.size).toBe(MAX_OFFERS_SEEN);
    expect(kept.has('signature-4')).toBe(false);
    expect(kept.has(`signature-${MAX_OFFERS_SEEN + 4}`)).toBe(true);
  });

  it('reads a missing or damaged file as none, and skips malformed entries', () => {
    const here = directory();
    expect(readOffersSeen(0, here)).toEqual(new Map());
    writeFileSync(offersSeenFile(here), 'not json');
    expect(readOffersSeen(0, here)).toEqual(new Map());
    writeFileSync(offersSeenFile(here), JSON.stringify({ version: 1, offers: [['good', 5], [7, 5], ['fractional', 5.5], 'x'] }));
    expect(readOffersSeen(0, here)).toEqual(new Map([['good', 5]]));
  });
});

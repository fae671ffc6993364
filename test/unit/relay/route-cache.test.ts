// The frame path's route cache: routes loaded together must not all expire in the same moment, or every
// sender waits on its store reads at once; none is trusted beyond the configured age.
import { describe, expect, it } from 'vitest';
import { RouteCache, type FrameRoute } from '../../../shared/server/use-cases/route-cache.js';

const route = (loadedAt: number): FrameRoute => ({
  sessionId: 'session',
  role: 'agent',
  peerConnectionId: 'peer',
  state: 'active',
  invitationExpiresAt: 0,
  sessionExpiresAt: 0,
  idleTimeoutSeconds: 900,
  lastActiveAt: 0,
  loadedAt,
});

describe('route cache', () => {
  it('routes loaded together expire spread over the last quarter of the age limit, none after it', () => {
    let seed = 7;
    const random = () => (seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647;
    const cache = new RouteCache(60_000, 10_000, random);
    const ids = Array.from({ length: 200 }, (_, index) => `connection-${index}`);
    for (const id of ids) cache.set(id, route(1_000));
    const cachedAt = (nowMs: number) => ids.filter((id) => cache.get(id, nowMs) !== undefined).length;
    expect(cachedAt(1_000 + 44_999)).toBe(200);
    const halfway = cachedAt(1_000 + 52_500);
    expect(halfway).toBeGreaterThan(60);
    expect(halfway).toBeLessThan(140);
    expect(cachedAt(1_000 + 60_000)).toBe(0);
  });

  it('with no spread drawn, a route is trusted for the whole age limit and re-read after it', () => {
    const cache = new RouteCache(60_000, 10_000, () => 0);
    cache.set('connection', route(0));
    expect(cache.get('connection', 59_999)?.peerConnectionId).toBe('peer');
    expect(cache.get('connection', 60_000)).toBeUndefined();
    expect(cache.get('connection', 0)).toBeUndefined(); // an expired entry is dropped, not kept for later
  });
});

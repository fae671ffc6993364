// The AuditTrail and RateLimiter contracts, run against the in-memory adapters and the DynamoDB ones on dynalite.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_AUDIT_EVENTS } from '../../shared/server/adapters/dynamo-audit-trail.js';
import type { AuditEvent } from '../../shared/core/messages.js';
import { adapterKinds, type TableAdapters } from './adapters.js';

describe.each(adapterKinds)('AuditTrail and RateLimiter contracts: $name', ({ start }) => {
  let adapters: TableAdapters;
  beforeAll(async () => {
    adapters = await start();
  });
  afterAll(() => adapters.close());
  const now = () => adapters.clock.now;

  it('an audit log lists its events oldest first until its retention ends', async () => {
    const sessionId = randomUUID();
    const events: AuditEvent[] = [
      { at: now(), event: 'created', role: 'agent', detail: 'file', nameplate: 'K7QM', sourceIp: '198.51.100.1' },
      { at: now() + 1, event: 'joined', role: 'expert' },
      { at: now() + 2, event: 'ended', detail: 'revoked' },
    ];
    for (const event of events) await adapters.audit.append(sessionId, event, now() + 100);
    expect(await adapters.audit.list(sessionId)).toEqual(events);
    expect(await adapters.audit.list(randomUUID())).toEqual([]);
    const all = [];
    for await (const log of adapters.audit.listAll()) all.push(log);
    expect(all).toContainEqual({ sessionId, events });
    adapters.clock.now += 100;
    expect(await adapters.audit.list(sessionId)).toEqual([]);
    const later = [];
    for await (const log of adapters.audit.listAll()) later.push(log.sessionId);
    expect(later).not.toContain(sessionId);
  });

  it(`an audit log keeps at most ${MAX_AUDIT_EVENTS} events and drops the rest quietly`, async () => {
    const sessionId = randomUUID();
    for (let n = 0; n < MAX_AUDIT_EVENTS + 2; n++) await adapters.audit.append(sessionId, { at: n, event: 'paused' }, now() + 100);
    const events = await adapters.audit.list(sessionId);
    expect(events).toHaveLength(MAX_AUDIT_EVENTS);
    expect(events.at(-1)?.at).toBe(MAX_AUDIT_EVENTS - 1);
  });

  it('a rate limit counts per key and fixed window, refusing beyond the limit, also when asked at once', async () => {
    const key = randomUUID();
    const windowStart = now() - (now() % 600);
    const uses = await Promise.all(Array.from({ length: 5 }, () => adapters.rateLimiter.consume(key, 3, 600, windowStart + 1)));
    expect(uses.filter(Boolean)).toHaveLength(3);
    expect(await adapters.rateLimiter.consume(key, 3, 600, windowStart + 599)).toBe(false);
    expect(await adapters.rateLimiter.consume(`${key}-other`, 3, 600, windowStart + 1)).toBe(true);
    expect(await adapters.rateLimiter.consume(key, 3, 600, windowStart + 600)).toBe(true);
    // A higher limit on the same counter (an operator raising it) lets more through at once.
    expect(await adapters.rateLimiter.consume(key, 1, 600, windowStart + 601)).toBe(false);
  });
});

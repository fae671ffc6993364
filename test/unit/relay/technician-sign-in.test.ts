// Technician sign-in on the in-memory registry with a fake clock: an ID token becomes a one-minute, single-use
// ticket kept only as its hash; the ticket signs a connection in; reused, expired and unknown tickets are refused.
import { beforeAll, describe, expect, it } from 'vitest';
import { mintTechnicianTicket, TECHNICIAN_TICKET_TTL_SECONDS } from '../../../shared/server/use-cases/technician-tickets.js';
import { requireTechnician, signInTechnician } from '../../../shared/server/use-cases/technician-sign-in.js';
import { hashToken } from '../../../shared/core/tokens.js';
import { MemoryRelay } from '../../support/memory-relay.js';
import { createTestIssuer, TEST_ISSUER, type TestIssuer } from '../../support/test-issuer.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

function setup() {
  const relay = new MemoryRelay();
  const ticketDeps = { ...relay.deps, technicianIssuer: TEST_ISSUER, issuerKeys: async () => issuer.keys };
  const mint = async (claims = {}) => mintTechnicianTicket(ticketDeps, await issuer.idToken(relay.clock.now(), claims));
  const signIn = (ticket: string, connectionId = 'tech-1') => signInTechnician(relay.deps, { connectionId, sourceIp: '192.0.2.9' }, { action: 'signInTechnician', ticket });
  return { relay, mint, signIn };
}

const refusedTicket = expect.objectContaining({ code: 'invalid-technician-ticket' });

describe('technician tickets', () => {
  it('sign a connection in as the technician the ID token names, and are kept only as their hash', async () => {
    const { relay, mint, signIn } = setup();
    const minted = await mint({ sub: 'grace', name: 'Grace Hopper', groups: ['Tier 2'] });
    expect(minted.expiresAt).toBe(relay.clock.nowSeconds() + TECHNICIAN_TICKET_TTL_SECONDS);
    // Only the hash is a key: the ticket itself signs in nothing when looked up directly.
    expect(await relay.technicians.takeTicket(minted.ticket, relay.clock.nowSeconds())).toBeUndefined();
    expect(await relay.technicians.takeTicket(hashToken(minted.ticket), 0)).toBeDefined();
    const again = await mint({ sub: 'grace', name: 'Grace Hopper', groups: ['Tier 2'] });
    const technician = { issuer: TEST_ISSUER.issuer, subject: 'grace', name: 'Grace Hopper', email: 'ada@example.org', groups: ['Tier 2'] };
    expect(await signIn(again.ticket)).toEqual({ type: 'technicianSignedIn', technician });
    expect(await requireTechnician(relay.deps, { connectionId: 'tech-1', sourceIp: '192.0.2.9' })).toEqual(technician);
  });

  it('are good once: a reused ticket is refused, and the first connection stays signed in', async () => {
    const { relay, mint, signIn } = setup();
    const { ticket } = await mint();
    await signIn(ticket, 'tech-1');
    await expect(signIn(ticket, 'tech-2')).rejects.toEqual(refusedTicket);
    await expect(requireTechnician(relay.deps, { connectionId: 'tech-2', sourceIp: '192.0.2.9' })).rejects.toEqual(expect.objectContaining({ code: 'technician-not-signed-in' }));
    await expect(requireTechnician(relay.deps, { connectionId: 'tech-1', sourceIp: '192.0.2.9' })).resolves.toMatchObject({ subject: 'ada' });
  });

  it('expire after a minute, and an unknown ticket is refused the same way', async () => {
    const { relay, mint, signIn } = setup();
    const { ticket } = await mint();
    relay.clock.advanceSeconds(TECHNICIAN_TICKET_TTL_SECONDS);
    await expect(signIn(ticket)).rejects.toEqual(refusedTicket);
    await expect(signIn('A'.repeat(43))).rejects.toEqual(refusedTicket);
  });

  it('are not minted for a refused ID token', async () => {
    const { relay, mint } = setup();
    await expect(mint({ exp: relay.clock.nowSeconds() - 3600 })).rejects.toEqual(expect.objectContaining({ code: 'token-expired' }));
    await expect(mintTechnicianTicket({ ...relay.deps, technicianIssuer: { ...TEST_ISSUER, issuer: 'https://other.example.org' }, issuerKeys: async () => issuer.keys }, await issuer.idToken(relay.clock.now()))).rejects.toEqual(
      expect.objectContaining({ code: 'token-wrong-issuer' }),
    );
  });

  it('sign in a connection only for the connection’s lifetime (2 hours)', async () => {
    const { relay, mint, signIn } = setup();
    await signIn((await mint()).ticket);
    relay.clock.advanceSeconds(2 * 60 * 60);
    await expect(requireTechnician(relay.deps, { connectionId: 'tech-1', sourceIp: '192.0.2.9' })).rejects.toEqual(expect.objectContaining({ code: 'technician-not-signed-in' }));
  });
});

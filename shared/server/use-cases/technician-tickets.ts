// A technician's ID token becomes a sign-in ticket (docs/technicians.md): verified here against the configured
// issuer, over HTTPS (the token goes in the Authorization header, never in a URL), and exchanged for a
// 256-bit ticket the relay keeps only as its hash, for a minute, good once (signInTechnician burns it).
// This is the one use case that imports jose: only the technicianTicket function bundles it.

import type { JWTVerifyGetKey } from 'jose';
import type { TechnicianIdentity, TechnicianIssuer } from '../../core/technician.js';
import { verifyIdToken } from '../../technician/id-token.js';
import { epochSeconds, type RelayDeps } from './deps.js';
import { hashToken, newResumeToken } from '../../core/tokens.js';

/** Long enough to open a WebSocket and send it; a ticket that leaks is worthless a minute later, or once used. */
export const TECHNICIAN_TICKET_TTL_SECONDS = 60;

export interface TicketDeps extends Pick<RelayDeps, 'technicians' | 'clock' | 'log'> {
  technicianIssuer: TechnicianIssuer;
  /** The issuer's signing keys (cachedIssuerKeys on Lambda; tests give a local key set). */
  issuerKeys: (issuer: string) => Promise<JWTVerifyGetKey>;
}

export interface MintedTicket {
  ticket: string;
  /** Epoch seconds. */
  expiresAt: number;
  technician: TechnicianIdentity;
}

/** Verifies the ID token (TechnicianTokenError when refused) and keeps a fresh ticket for the technician it names. */
export async function mintTechnicianTicket(deps: TicketDeps, idToken: string): Promise<MintedTicket> {
  const technician = await verifyIdToken(deps.technicianIssuer, idToken, await deps.issuerKeys(deps.technicianIssuer.issuer), { now: deps.clock() });
  const ticket = newResumeToken();
  const expiresAt = epochSeconds(deps) + TECHNICIAN_TICKET_TTL_SECONDS;
  await deps.technicians.putTicket(hashToken(ticket), technician, expiresAt);
  deps.log.info('technician-ticket-minted', { issuer: technician.issuer, subject: technician.subject });
  return { ticket, expiresAt, technician };
}

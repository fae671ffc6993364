import type { TechnicianIdentity } from '../../core/technician.js';

/**
 * Technicians' sign-in tickets and signed-in connections (docs/technicians.md). A ticket is kept only as its
 * hash, is good once, and every read treats an expired item as absent (DynamoDB's TTL deletes late).
 */
export interface TechnicianRegistry {
  /** Keeps a ticket (its SHA-256 only) that signs `technician` in, until `expiresAt` (epoch seconds). */
  putTicket(ticketHash: string, technician: TechnicianIdentity, expiresAt: number): Promise<void>;
  /** Takes the ticket (it is burned whatever follows); undefined if unknown, taken already or expired at `now`. */
  takeTicket(ticketHash: string, now: number): Promise<TechnicianIdentity | undefined>;
  /** Records who is signed in on a connection, until `expiresAt`. */
  attachTechnician(connectionId: string, technician: TechnicianIdentity, expiresAt: number): Promise<void>;
  /** Who is signed in on the connection; undefined if nobody is (or it expired at `now`). */
  signedInTechnician(connectionId: string, now: number): Promise<TechnicianIdentity | undefined>;
}

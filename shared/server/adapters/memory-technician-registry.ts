import type { TechnicianIdentity } from '../../core/technician.js';
import type { TechnicianRegistry } from '../ports/technician-registry.js';

interface Kept {
  technician: TechnicianIdentity;
  expiresAt: number;
}

const live = (kept: Kept | undefined, now: number) => (kept && kept.expiresAt > now ? structuredClone(kept.technician) : undefined);

/** Technicians' tickets and connections in memory: unit tests, and the contract test beside the DynamoDB one. */
export class MemoryTechnicianRegistry implements TechnicianRegistry {
  readonly #tickets = new Map<string, Kept>();
  readonly #connections = new Map<string, Kept>();

  async putTicket(ticketHash: string, technician: TechnicianIdentity, expiresAt: number): Promise<void> {
    this.#tickets.set(ticketHash, { technician: structuredClone(technician), expiresAt });
  }

  async takeTicket(ticketHash: string, now: number): Promise<TechnicianIdentity | undefined> {
    const kept = this.#tickets.get(ticketHash);
    this.#tickets.delete(ticketHash);
    return live(kept, now);
  }

  async attachTechnician(connectionId: string, technician: TechnicianIdentity, expiresAt: number): Promise<void> {
    this.#connections.set(connectionId, { technician: structuredClone(technician), expiresAt });
  }

  async signedInTechnician(connectionId: string, now: number): Promise<TechnicianIdentity | undefined> {
    return live(this.#connections.get(connectionId), now);
  }
}

// A technician's connection is signed in with a ticket (docs/technicians.md): the relay's HTTPS endpoint
// verified the ID token and minted the ticket (technician-tickets.ts, the only function that bundles jose);
// here the ticket is burned and the verified identity kept for the connection. Use cases for technicians
// ask requireTechnician who is asking.

import type { TechnicianIdentity } from '../../core/technician.js';
import type { ServerMessage, SignInTechnicianRequest } from '../../core/messages.js';
import { epochSeconds, type Caller, type RelayDeps } from './deps.js';
import { RelayError } from './errors.js';
import { hashToken } from '../../core/tokens.js';

/** API Gateway closes every connection after 2 hours: a signed-in connection's identity need not outlive it. */
const SIGNED_IN_CONNECTION_SECONDS = 2 * 60 * 60;

export async function signInTechnician(deps: RelayDeps, caller: Caller, request: SignInTechnicianRequest): Promise<ServerMessage> {
  const now = epochSeconds(deps);
  const technician = await deps.technicians.takeTicket(hashToken(request.ticket), now);
  if (!technician) {
    throw new RelayError(
      'invalid-technician-ticket',
      'this sign-in ticket is unknown, used already or expired (each is good once, for a minute); get a new one from the relay’s /technician/ticket with your ID token',
    );
  }
  await deps.technicians.attachTechnician(caller.connectionId, technician, now + SIGNED_IN_CONNECTION_SECONDS);
  deps.log.info('technician-signed-in', { issuer: technician.issuer, subject: technician.subject });
  return { type: 'technicianSignedIn', technician };
}

/** The technician signed in on the caller's connection, or a `technician-not-signed-in` refusal. */
export async function requireTechnician(deps: Pick<RelayDeps, 'technicians' | 'clock'>, caller: Caller): Promise<TechnicianIdentity> {
  const technician = await deps.technicians.signedInTechnician(caller.connectionId, epochSeconds(deps));
  if (!technician) throw new RelayError('technician-not-signed-in', 'only a signed-in technician may do this; sign in (assist login, or the console), then connect again');
  return technician;
}

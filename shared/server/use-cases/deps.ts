import type { RelayPolicy } from '../config/policy.js';
import type { AuditTrail } from '../ports/audit-trail.js';
import type { ConnectionNotifier } from '../ports/connection-notifier.js';
import type { DeviceRegistry } from '../ports/device-registry.js';
import type { Log } from '../ports/log.js';
import type { Mailer } from '../ports/mailer.js';
import type { RateLimiter } from '../ports/rate-limiter.js';
import type { SessionStore } from '../ports/session-store.js';
import type { TechnicianRegistry } from '../ports/technician-registry.js';
import type { TechnicianSignInInfo } from '../../core/technician.js';
import type { RouteCache } from './route-cache.js';
import type { RelayUrls } from '../../core/invitation-file.js';

/** Where clients reach this relay (the URLs an invitation file names); invitations and relay URLs name it. */
export interface RelayEndpoints extends RelayUrls {
  /**
   * Other origins the relay's own pages are served at, which may connect like httpUrl's (the local
   * runtime on loopback: localhost, 127.0.0.1 and [::1] at its port). None on AWS.
   */
  pageOrigins?: readonly string[];
}

/** Everything a use case needs, injected so Lambda, the local runtime and tests wire it differently. */
export interface RelayDeps {
  store: SessionStore;
  notifier: ConnectionNotifier;
  audit: AuditTrail;
  /** Enrolment tokens and enrolled devices. */
  devices: DeviceRegistry;
  /** Technicians' sign-in tickets and signed-in connections. */
  technicians: TechnicianRegistry;
  /** The OpenID Connect issuer technicians sign in with (and assist login's exact redirect, for /relay.json); absent when none is configured (technician sign-in is then refused). */
  technicianIssuer?: TechnicianSignInInfo;
  rateLimiter: RateLimiter;
  /** Absent when the operator configured no email sender: emailing is then refused. */
  mailer?: Mailer;
  endpoints: RelayEndpoints;
  policy: RelayPolicy;
  log: Log;
  /** Epoch milliseconds. */
  clock: () => number;
  /** Per-container cache of frame routes; lives as long as the container. */
  routes: RouteCache;
}

/** Who sent the request, as API Gateway reports it. */
export interface Caller {
  connectionId: string;
  sourceIp: string;
}

export const epochSeconds = (deps: Pick<RelayDeps, 'clock'>): number => Math.floor(deps.clock() / 1000);

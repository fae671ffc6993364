import type { RelayPolicy } from '../config/policy.js';
import type { ConnectionNotifier } from '../ports/connection-notifier.js';
import type { Log } from '../ports/log.js';
import type { SessionStore } from '../ports/session-store.js';
import type { RouteCache } from './route-cache.js';

/** Everything a use case needs, injected so Lambda, the local runtime and tests wire it differently. */
export interface RelayDeps {
  store: SessionStore;
  notifier: ConnectionNotifier;
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

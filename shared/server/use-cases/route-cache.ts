import type { Role } from '../../core/messages.js';
import type { SessionState } from '../ports/session-store.js';

/** What the frame path needs to forward one frame, so steady-state frames cost no DynamoDB read. */
export interface FrameRoute {
  sessionId: string;
  role: Role;
  peerConnectionId?: string;
  state: SessionState;
  invitationExpiresAt: number;
  sessionExpiresAt: number;
  idleTimeoutSeconds: number;
  lastActiveAt: number;
  /** Epoch milliseconds when the route was read from the store. */
  loadedAt: number;
}

/** Bounded map from sender connection id to route; entries older than maxAgeMs are re-read. */
export class RouteCache {
  private readonly routes = new Map<string, FrameRoute>();
  /** Frames each connection sent before approval, as far as this container saw them. */
  private readonly preApprovalFrames = new Map<string, number>();
  /** Store reads under way, by connection: a burst of frames on a cold or stale route shares one. */
  private readonly reading = new Map<string, Promise<FrameRoute>>();

  constructor(
    private readonly maxAgeMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(connectionId: string, nowMs: number): FrameRoute | undefined {
    const route = this.routes.get(connectionId);
    if (route && nowMs - route.loadedAt < this.maxAgeMs) return route;
    this.routes.delete(connectionId);
    return undefined;
  }

  set(connectionId: string, route: FrameRoute): void {
    boundedSet(this.routes, connectionId, route, this.maxEntries);
  }

  /**
   * The read under way for this connection's route, or `read()` started now. `shared`: the read began
   * before this caller asked, so it may predate a change the caller depends on (decide refusals on a new read).
   */
  readOnce(connectionId: string, read: () => Promise<FrameRoute>): { route: Promise<FrameRoute>; shared: boolean } {
    const running = this.reading.get(connectionId);
    if (running) return { route: running, shared: true };
    const route = read();
    this.reading.set(connectionId, route);
    const done = () => {
      if (this.reading.get(connectionId) === route) this.reading.delete(connectionId);
    };
    route.then(done, done);
    return { route, shared: false };
  }

  /** Counts one frame sent before approval; returns the connection's count so far (kept across route reloads). */
  countPreApprovalFrame(connectionId: string): number {
    const count = (this.preApprovalFrames.get(connectionId) ?? 0) + 1;
    boundedSet(this.preApprovalFrames, connectionId, count, this.maxEntries);
    return count;
  }

  delete(connectionId: string): void {
    this.routes.delete(connectionId);
    this.reading.delete(connectionId);
    this.preApprovalFrames.delete(connectionId);
  }
}

function boundedSet<V>(map: Map<string, V>, key: string, value: V, maxEntries: number): void {
  // Map iteration order is insertion order, so the first key is the oldest entry.
  if (!map.has(key) && map.size >= maxEntries) map.delete(map.keys().next().value as string);
  map.set(key, value);
}

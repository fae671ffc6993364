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

/**
 * Each entry is trusted for maxAgeMs less up to this share of it, at random: routes loaded together (a burst
 * of sessions set up at once) then expire spread out, not all in the same second, when every one of them
 * would wait on its two store reads at once.
 */
const EXPIRY_SPREAD = 0.25;

/** Bounded map from sender connection id to route; entries older than their age limit (≤ maxAgeMs) are re-read. */
export class RouteCache {
  private readonly routes = new Map<string, { route: FrameRoute; expiresAt: number }>();
  /** Frames each connection sent before approval, as far as this container saw them. */
  private readonly preApprovalFrames = new Map<string, number>();
  /** Store reads under way, by connection: a burst of frames on a cold or stale route shares one. */
  private readonly reading = new Map<string, Promise<FrameRoute>>();

  constructor(
    private readonly maxAgeMs: number,
    private readonly maxEntries = 10_000,
    private readonly random: () => number = Math.random,
  ) {}

  get(connectionId: string, nowMs: number): FrameRoute | undefined {
    const entry = this.routes.get(connectionId);
    if (entry && nowMs < entry.expiresAt) return entry.route;
    this.routes.delete(connectionId);
    return undefined;
  }

  set(connectionId: string, route: FrameRoute): void {
    const expiresAt = route.loadedAt + this.maxAgeMs * (1 - EXPIRY_SPREAD * this.random());
    boundedSet(this.routes, connectionId, { route, expiresAt }, this.maxEntries);
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

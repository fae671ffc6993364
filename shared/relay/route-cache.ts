import type { Role } from '../protocol/messages.js';
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

  /** Counts one frame sent before approval; returns the connection's count so far (kept across route reloads). */
  countPreApprovalFrame(connectionId: string): number {
    const count = (this.preApprovalFrames.get(connectionId) ?? 0) + 1;
    boundedSet(this.preApprovalFrames, connectionId, count, this.maxEntries);
    return count;
  }

  delete(connectionId: string): void {
    this.routes.delete(connectionId);
    this.preApprovalFrames.delete(connectionId);
  }
}

function boundedSet<V>(map: Map<string, V>, key: string, value: V, maxEntries: number): void {
  // Map iteration order is insertion order, so the first key is the oldest entry.
  if (!map.has(key) && map.size >= maxEntries) map.delete(map.keys().next().value as string);
  map.set(key, value);
}

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
    // Map iteration order is insertion order, so the first key is the oldest entry.
    if (this.routes.size >= this.maxEntries) this.routes.delete(this.routes.keys().next().value as string);
    this.routes.set(connectionId, route);
  }

  delete(connectionId: string): void {
    this.routes.delete(connectionId);
  }
}

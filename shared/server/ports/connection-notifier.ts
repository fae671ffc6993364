import type { ServerMessage } from '../../core/messages.js';

/** 'throttled': API Gateway kept refusing after retries; the frame is dropped and the client stream retransmits. */
export type PostOutcome = 'delivered' | 'gone' | 'throttled';

/** Pushes messages to client connections (API Gateway's @connections API). */
export interface ConnectionNotifier {
  /** Sends one message; 'gone' when the connection no longer exists. Throttling is retried inside. */
  post(connectionId: string, message: ServerMessage): Promise<PostOutcome>;
  /** Sends an already-serialized message (the frame path avoids re-encoding). */
  postRaw(connectionId: string, body: string): Promise<PostOutcome>;
  /** Closes a connection; a connection that is already gone is not an error. */
  disconnect(connectionId: string): Promise<void>;
  /**
   * Whether the connection still exists (@connections GET). False only when it is known gone: $disconnect is
   * best effort, so the sweeper asks. A throttled or failed question answers true (ask again next sweep).
   */
  isConnected(connectionId: string): Promise<boolean>;
}

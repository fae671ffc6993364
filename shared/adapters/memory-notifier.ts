import type { ConnectionNotifier, PostOutcome } from '../ports/connection-notifier.js';
import type { ServerMessage } from '../protocol/messages.js';

/**
 * A notifier that records what it would have sent: the messages posted to each connection (parsed) and
 * the connections it closed. A connection is open from `open(id)` until it is closed (by `disconnect`,
 * or by `gone(id)`, as a client vanishing); a post to anything else answers 'gone', as @connections does.
 * `deliver` sees every post to an open connection (an in-process relay sends it on) and may answer
 * 'gone' or 'throttled' for it.
 */
export class RecordingNotifier implements ConnectionNotifier {
  private readonly open = new Set<string>();
  private readonly posted = new Map<string, ServerMessage[]>();
  /** Connections closed by the relay, in order. */
  readonly disconnected: string[] = [];

  constructor(private readonly deliver?: (connectionId: string, body: string) => PostOutcome | void) {}

  /** A client connected. */
  connect(connectionId: string): void {
    this.open.add(connectionId);
  }

  /** The client vanished without the relay closing it: posts to it answer 'gone' from now on. */
  gone(connectionId: string): void {
    this.open.delete(connectionId);
  }

  isOpen(connectionId: string): boolean {
    return this.open.has(connectionId);
  }

  /** Every message posted to this connection so far, oldest first. */
  messagesTo(connectionId: string): ServerMessage[] {
    return [...(this.posted.get(connectionId) ?? [])];
  }

  /** Forgets what was posted to this connection (so a test reads only what comes next). */
  clear(connectionId: string): void {
    this.posted.delete(connectionId);
  }

  async post(connectionId: string, message: ServerMessage): Promise<PostOutcome> {
    return this.postRaw(connectionId, JSON.stringify(message));
  }

  async postRaw(connectionId: string, body: string): Promise<PostOutcome> {
    if (!this.open.has(connectionId)) return 'gone';
    const outcome = this.deliver?.(connectionId, body) ?? 'delivered';
    if (outcome === 'gone') this.open.delete(connectionId);
    if (outcome !== 'delivered') return outcome;
    this.posted.set(connectionId, [...(this.posted.get(connectionId) ?? []), JSON.parse(body) as ServerMessage]);
    return 'delivered';
  }

  async isConnected(connectionId: string): Promise<boolean> {
    return this.open.has(connectionId);
  }

  async disconnect(connectionId: string): Promise<void> {
    if (this.open.delete(connectionId)) this.disconnected.push(connectionId);
  }
}

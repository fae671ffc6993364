import type { ConnectionNotifier, PostOutcome } from '../ports/connection-notifier.js';
import type { ServerMessage } from '../../core/messages.js';

export interface RecordingNotifierHooks {
  /** Sees every post to an open connection (an in-process relay sends it on) and may answer 'gone' or 'throttled' for it. */
  deliver?: (connectionId: string, body: string) => PostOutcome | void;
  /** Called when the relay closes a connection. */
  close?: (connectionId: string) => void;
  /** false: keep no copy of what is posted (a long-running in-process relay). Default true. */
  record?: boolean;
}

/**
 * A notifier that records what it would have sent: the messages posted to each connection (parsed) and
 * the connections it closed. A connection is open from `connect(id)` until it is closed (by `disconnect`,
 * or by `gone(id)`, as a client vanishing); a post to anything else answers 'gone', as @connections does.
 */
export class RecordingNotifier implements ConnectionNotifier {
  private readonly open = new Set<string>();
  private readonly posted = new Map<string, ServerMessage[]>();
  /** Connections closed by the relay, in order. */
  readonly disconnected: string[] = [];

  constructor(private readonly hooks: RecordingNotifierHooks = {}) {}

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
    const outcome = this.hooks.deliver?.(connectionId, body) ?? 'delivered';
    if (outcome === 'gone') this.open.delete(connectionId);
    if (outcome !== 'delivered') return outcome;
    if (this.hooks.record !== false) this.posted.set(connectionId, [...(this.posted.get(connectionId) ?? []), JSON.parse(body) as ServerMessage]);
    return 'delivered';
  }

  async isConnected(connectionId: string): Promise<boolean> {
    return this.open.has(connectionId);
  }

  async disconnect(connectionId: string): Promise<void> {
    if (!this.open.delete(connectionId)) return;
    this.disconnected.push(connectionId);
    this.hooks.close?.(connectionId);
  }
}

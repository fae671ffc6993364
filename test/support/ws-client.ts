import WebSocket from 'ws';
import type { ServerMessage } from '../../shared/core/messages.js';

/** A raw WebSocket test client that queues every server message for in-order assertions. */
export class TestSocket {
  private readonly inbox: ServerMessage[] = [];
  private readonly waiters: Array<(message: ServerMessage) => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as ServerMessage;
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.inbox.push(message);
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(url: string, headers?: Record<string, string>): Promise<TestSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers });
      socket.once('open', () => resolve(new TestSocket(socket)));
      socket.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message, failing the test if none arrives in time. */
  next(timeoutMs = 5000): Promise<ServerMessage> {
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const waiter = (message: ServerMessage) => {
        clearTimeout(timer);
        resolve(message);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Sends a request and returns the reply (the relay answers on the same connection). */
  async request(message: unknown): Promise<ServerMessage> {
    this.send(message);
    return this.next();
  }

  /** Messages received so far and not yet consumed. */
  pending(): ServerMessage[] {
    return [...this.inbox];
  }

  close(): void {
    this.socket.close();
  }
}

export const frameOf = (text: string) => ({ action: 'frame', data: Buffer.from(text).toString('base64') });

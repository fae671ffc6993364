// One WebSocket connection to the relay: JSON in and out, requests matched to their answers, and a
// single "closed" signal however the connection ends (socket close, request timeout, or by us).

import type { ClientMessage, EndReason, ErrorCode, InvitationKind, ServerMessage } from '../shared/protocol/messages.js';
import type { CancelTimer, Clock } from './clock.js';

/** The part of the WebSocket API the client uses; browsers' WebSocket and the `ws` package both have it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number }) => void): void;
  addEventListener(type: 'error', listener: () => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** A relay `{type:'error'}` reply. */
export class RelayError extends Error {
  override name = 'RelayError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The action the relay was answering, when it said. */
    readonly requestAction?: string,
    /** For `session-ended`: why the session ended (the relay tells a participant who was away). */
    readonly endReason?: EndReason,
    /** For `wrong-kind`: what the invitation joined really is. */
    readonly invitationKind?: InvitationKind,
  ) {
    super(message);
  }
}

/** Client messages the relay answers, and the type of each answer. */
const replyTypeOf = {
  createSession: 'sessionCreated',
  joinSession: 'sessionJoined',
  resumeSession: 'sessionResumed',
  approveSession: 'sessionActive',
  reportFailedAttempt: 'attemptRecorded',
  recordEvent: 'eventRecorded',
  emailInvitation: 'invitationEmailed',
  listAudit: 'auditLog',
} as const satisfies Partial<Record<ClientMessage['action'], ServerMessage['type']>>;
type Answered = keyof typeof replyTypeOf;
export type RelayRequest = Extract<ClientMessage, { action: Answered }>;
type Reply = Extract<ServerMessage, { type: (typeof replyTypeOf)[Answered] }>;
export type ReplyTo<Request extends RelayRequest> = Extract<Reply, { type: (typeof replyTypeOf)[Request['action']] }>;
const replyTypes = new Set<string>(Object.values(replyTypeOf));

/**
 * Messages that are not answers to a request: frames, peer and ended notices, errors about frames,
 * and `sessionActive` when it tells the expert that the agent approved.
 */
export type Notice = Exclude<ServerMessage, Exclude<Reply, { type: 'sessionActive' }>>;

export interface ConnectionEvents {
  notice(message: Notice): void;
  /** Something arrived that is not a relay message; the connection stays up. */
  malformed(error: Error): void;
  closed(cause: Error): void;
}

interface PendingRequest {
  action: Answered;
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

const OPEN = 1;

export class RelayConnection {
  readonly #socket: WebSocketLike;
  readonly #events: ConnectionEvents;
  readonly #clock: Clock;
  readonly #requestTimeoutMs: number;
  readonly #pending: PendingRequest[] = [];
  #closed = false;

  private constructor(socket: WebSocketLike, events: ConnectionEvents, clock: Clock, requestTimeoutMs: number) {
    this.#socket = socket;
    this.#events = events;
    this.#clock = clock;
    this.#requestTimeoutMs = requestTimeoutMs;
    socket.addEventListener('message', (event) => this.#onMessage(event.data));
    socket.addEventListener('close', (event) => this.#shutDown(new Error(`connection to the relay closed (code ${event.code})`)));
  }

  /** Resolves once the socket is open; rejects if it closes first. `events` apply from then on. */
  static open(
    WebSocket: WebSocketConstructor,
    url: string,
    events: ConnectionEvents,
    options: { clock: Clock; requestTimeoutMs: number },
  ): Promise<RelayConnection> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      // 'close' always follows and tells the outcome; but `ws` (an EventEmitter) throws an 'error' nobody hears.
      socket.addEventListener('error', () => {});
      let opened = false;
      socket.addEventListener('open', () => {
        opened = true;
        resolve(new RelayConnection(socket, events, options.clock, options.requestTimeoutMs));
      });
      socket.addEventListener('close', (event) => {
        if (!opened) reject(new Error(`could not connect to the relay (code ${event.code})`));
      });
    });
  }

  get open(): boolean {
    return !this.#closed && this.#socket.readyState === OPEN;
  }

  /** Sends a message that gets no reply (frame, endSession); silently dropped when not open. */
  send(message: ClientMessage): void {
    if (this.open) this.#socket.send(JSON.stringify(message));
  }

  /**
   * Sends a request and resolves with its answer, or rejects with the RelayError the relay answered.
   * Answers are matched by type, errors by `requestAction`, the oldest pending request first: the
   * relay answers each request on the connection it came from, in order.
   */
  request<Request extends RelayRequest>(request: Request): Promise<ReplyTo<Request>> {
    if (!this.open) return Promise.reject(new Error('connection to the relay is closed'));
    return new Promise((resolve, reject) => {
      const cancelTimeout: CancelTimer = this.#clock.schedule(this.#requestTimeoutMs, () =>
        this.close(new Error(`the relay did not answer ${request.action} within ${this.#requestTimeoutMs} ms`)),
      );
      this.#pending.push({
        action: request.action,
        resolve: (reply) => {
          cancelTimeout();
          resolve(reply as ReplyTo<Request>);
        },
        reject: (error) => {
          cancelTimeout();
          reject(error);
        },
      });
      this.#socket.send(JSON.stringify(request));
    });
  }

  /** Closes now: pending requests reject with `cause` and `closed` fires at once, not after the close handshake. */
  close(cause = new Error('connection closed by the client')): void {
    if (this.#closed) return;
    this.#socket.close(1000);
    this.#shutDown(cause);
  }

  #shutDown(cause: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const request of this.#pending.splice(0)) request.reject(cause);
    this.#events.closed(cause);
  }

  #onMessage(data: unknown): void {
    if (this.#closed) return;
    let message: ServerMessage;
    try {
      message = JSON.parse(String(data)) as ServerMessage;
      if (typeof message !== 'object' || message === null || typeof message.type !== 'string') throw new Error('no type');
    } catch {
      this.#events.malformed(new Error('the relay sent something that is not a relay message'));
      return;
    }
    if (message.type === 'error') {
      const error = new RelayError(message.code, message.message, message.requestAction, message.endReason, message.invitationKind);
      const request = this.#takePending((pending) => pending.action === message.requestAction);
      if (request) request.reject(error);
      else this.#events.notice(message);
      return;
    }
    if (replyTypes.has(message.type)) {
      const reply = message as Reply;
      const request = this.#takePending((pending) => replyTypeOf[pending.action] === reply.type);
      if (request) request.resolve(reply);
      else if (reply.type === 'sessionActive') this.#events.notice(reply);
      else this.#events.malformed(new Error(`unexpected ${reply.type} from the relay`));
      return;
    }
    this.#events.notice(message as Notice);
  }

  /** The oldest pending request matching. */
  #takePending(matches: (request: PendingRequest) => boolean): PendingRequest | undefined {
    const index = this.#pending.findIndex(matches);
    return index < 0 ? undefined : this.#pending.splice(index, 1)[0];
  }
}

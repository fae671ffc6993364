// One WebSocket connection to the relay: JSON in and out, requests matched to their answers, and a
// single "closed" signal however the connection ends (socket close, request timeout, or by us).

import type { ClientMessage, ServerMessage } from '../shared/core/messages.js';
import { parseServerMessage, ProtocolError } from '../shared/core/server-messages.js';
import { replyTypeOf } from '../functions/lib/routes.js';
import { RelayError } from '../shared/core/relay-error.js';
import { systemClock, type CancelTimer, type Clock } from './clock.js';
import { defaultPacing, SendPacer, type PacingPolicy } from './pacer.js';
import { CodedError } from '../shared/core/coded-error.js';

/** The part of the WebSocket API the client uses; browsers' WebSocket and the `ws` package both have it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number }) => void): void;
  /** `ws` passes an ErrorEvent whose message names the HTTP status of a refused upgrade; browsers say nothing. */
  addEventListener(type: 'error', listener: (event: { message?: unknown }) => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** A relay `{type:'error'}` reply: the same class the relay throws (shared/core/relay-error.ts). */
export { RelayError };

/**
 * What API Gateway itself (not the relay's code) did to the connection, as an error with a sentence:
 * - `throttled`: the stage or Lambda throttled this connection's requests and retries did not get through;
 * - `message-too-large`: the relay closed the connection (1009) because a message was over its limits;
 * - `connection-refused`: the WebSocket upgrade was refused (403: wrong stage path, or a browser origin
 *   the relay does not allow);
 * - `relay-unreachable`: the connection could not be opened at all;
 * - `connection-lost`: an open connection dropped before the relay answered a request;
 * - `relay-failed`: API Gateway answered "Internal server error" (the route's function failed) and the
 *   request got no answer of its own.
 */
export type ConnectionErrorCode = 'throttled' | 'message-too-large' | 'connection-refused' | 'relay-unreachable' | 'connection-lost' | 'relay-failed';

export class RelayConnectionError extends CodedError<ConnectionErrorCode> {
  override readonly name = 'RelayConnectionError';
}

/** API Gateway's close code for a frame over 32 KB or a message over 128 KB. */
const MESSAGE_TOO_BIG = 1009;

function closedError(code: number): RelayConnectionError {
  if (code === MESSAGE_TOO_BIG) {
    return new RelayConnectionError(
      'message-too-large',
      'the relay closed the connection because a message was over its size limits (32 KB per WebSocket frame, 128 KB per message); the client reconnects, but the program that sent it needs fixing',
    );
  }
  return new RelayConnectionError('connection-lost', `the connection to the relay dropped (code ${code}) before it answered`);
}

function refusedError(url: string, closeCode: number, errorText: string): Error {
  const status = /Unexpected server response: (\d+)/.exec(errorText)?.[1];
  if (status === '403') {
    return new RelayConnectionError(
      'connection-refused',
      `the relay refused the connection (HTTP 403): check the WebSocket URL ${url}, whose path is the stage (…/live on AWS, …/local for npm start), or better give the relay's https:// address; in a browser, the relay must also allow this page's origin`,
    );
  }
  const why = status ? `HTTP ${status}` : `code ${closeCode}`;
  return new RelayConnectionError('relay-unreachable', `could not connect to the relay at ${url} (${why}); check the address and your network, then try again`);
}

/**
 * API Gateway's own answers carry `message` and no `type`: `{"message":"Too Many Requests",
 * "connectionId":…,"requestId":…}` when the stage or Lambda throttles a message (the message never
 * reached the relay's code), `{"message":"Internal server error",…}` when an integration failed.
 */
function gatewayMessage(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || 'type' in value) return undefined;
  const message = (value as { message?: unknown }).message;
  return typeof message === 'string' ? message : undefined;
}

/** How long a request may stay unanswered after API Gateway reported a failure before it is taken to be the one that failed. */
const GATEWAY_FAILURE_GRACE_MS = 2_000;

const isThrottle = (message: string) => /too many requests|rate exceeded|throttl|limit exceeded/i.test(message);

/** How a request whose message may have been throttled is sent again. */
export interface ThrottleRetryPolicy {
  /**
   * How long a request may stay unanswered after a throttle notice before it is sent again: the notice
   * does not say which message it refused (it may have been a frame), and the relay answers a request it
   * did handle well within this. Doubles with each retry, with jitter.
   */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Sends after the first; then the request fails with RelayConnectionError `throttled`. */
  maxRetries: number;
}

export const defaultThrottleRetry: ThrottleRetryPolicy = { initialDelayMs: 1000, maxDelayMs: 8000, maxRetries: 4 };

/** Client messages the relay answers, and the type of each answer: from the relay's route table. */
type Answered = keyof typeof replyTypeOf;
export type RelayRequest = Extract<ClientMessage, { action: Answered }>;
type Reply = Extract<ServerMessage, { type: (typeof replyTypeOf)[Answered] }>;
export type ReplyTo<Request extends RelayRequest> = Extract<Reply, { type: (typeof replyTypeOf)[Request['action']] }>;
const replyTypes = new Set<string>(Object.values(replyTypeOf));

/**
 * Messages that are not answers to a request: frames, peer and ended notices, errors about frames,
 * and `sessionActive` / `sessionExtended` when they tell the expert what the agent did.
 */
export type Notice = Exclude<ServerMessage, Exclude<Reply, { type: 'sessionActive' | 'sessionExtended' }>>;

export interface ConnectionEvents {
  notice(message: Notice): void;
  /** API Gateway throttled one of this connection's messages (requests are retried; frames are the stream's to resend). */
  throttled?(): void;
  /** A message waited for the stage throttle's pacing before it went out. */
  paced?(): void;
  /** Something arrived that is not a relay message; the connection stays up. */
  malformed(error: Error): void;
  closed(cause: Error): void;
}

interface PendingRequest {
  action: Answered;
  text: string;
  /** Sends after the first. */
  retries: number;
  /** A resend scheduled after a throttle notice. */
  cancelRetry?: CancelTimer;
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

const OPEN = 1;

export interface ConnectionOptions {
  clock: Clock;
  requestTimeoutMs: number;
  throttleRetry?: Partial<ThrottleRetryPolicy>;
  /** The stage throttle this connection paces its sends under (defaultPacing: the deployed defaults). */
  pacing?: Partial<PacingPolicy>;
}

export class RelayConnection {
  readonly #socket: WebSocketLike;
  readonly #events: ConnectionEvents;
  readonly #clock: Clock;
  readonly #requestTimeoutMs: number;
  readonly #throttleRetry: ThrottleRetryPolicy;
  /** Every message goes out through it: a burst waits for the stage throttle's tokens instead of being refused. */
  readonly #pacer: SendPacer;
  readonly #pending: PendingRequest[] = [];
  /** Answers still owed to requests sent twice, by action: a late one is dropped, not reported. */
  readonly #owedAnswers = new Map<Answered, number>();
  #closed = false;

  private constructor(socket: WebSocketLike, events: ConnectionEvents, options: ConnectionOptions) {
    this.#socket = socket;
    this.#events = events;
    this.#clock = options.clock;
    this.#requestTimeoutMs = options.requestTimeoutMs;
    this.#throttleRetry = { ...defaultThrottleRetry, ...options.throttleRetry };
    this.#pacer = new SendPacer(
      options.clock,
      { ...defaultPacing, ...options.pacing },
      (text) => {
        if (this.open) socket.send(text);
      },
      () => events.paced?.(),
    );
    socket.addEventListener('message', (event) => this.#onMessage(event.data));
    socket.addEventListener('close', (event) => this.#shutDown(closedError(event.code)));
  }

  /** Resolves once the socket is open; rejects if it closes first. `events` apply from then on. */
  static open(
    WebSocket: WebSocketConstructor,
    url: string,
    events: ConnectionEvents,
    options: ConnectionOptions,
  ): Promise<RelayConnection> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      // 'close' always follows and tells the outcome; but `ws` (an EventEmitter) throws an 'error' nobody hears.
      // Its message is kept: with `ws` it names the HTTP status of a refused upgrade.
      let errorText = '';
      socket.addEventListener('error', (event) => {
        if (typeof event?.message === 'string') errorText = event.message;
      });
      let opened = false;
      socket.addEventListener('open', () => {
        opened = true;
        resolve(new RelayConnection(socket, events, options));
      });
      socket.addEventListener('close', (event) => {
        if (!opened) reject(refusedError(url, event.code, errorText));
      });
    });
  }

  get open(): boolean {
    return !this.#closed && this.#socket.readyState === OPEN;
  }

  /** Sends a message that gets no reply (frame, endSession); silently dropped when not open. */
  send(message: ClientMessage): void {
    if (this.open) this.#pacer.send(JSON.stringify(message));
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
      const text = JSON.stringify(request);
      const pending: PendingRequest = {
        action: request.action,
        text,
        retries: 0,
        resolve: (reply) => {
          cancelTimeout();
          // A scheduled resend stays: the answer may have been another request's of this action (see #onThrottled).
          resolve(reply as ReplyTo<Request>);
        },
        reject: (error) => {
          cancelTimeout();
          pending.cancelRetry?.();
          reject(error);
        },
      };
      this.#pending.push(pending);
      this.#pacer.send(text);
    });
  }

  /**
   * API Gateway refused one of our messages, without saying which. Every pending request not answered
   * within the retry delay is taken to be it and sent again; a throttled message never reached the relay,
   * and if it was a frame after all the request's answer arrives meanwhile and nothing is resent.
   */
  #onThrottled(): void {
    this.#events.throttled?.();
    for (const pending of this.#pending) {
      if (pending.cancelRetry) continue;
      const { initialDelayMs, maxDelayMs, maxRetries } = this.#throttleRetry;
      const cap = Math.min(maxDelayMs, initialDelayMs * 2 ** pending.retries);
      pending.cancelRetry = this.#clock.schedule(cap / 2 + (Math.random() * cap) / 2, () => {
        pending.cancelRetry = undefined;
        if (!this.open) return;
        // Answers go to the oldest request of their type, so another request of this action may have taken
        // this one's answer: the one still waiting, with no resend of its own scheduled, is resent instead.
        const target = this.#pending.includes(pending)
          ? pending
          : this.#pending.find((candidate) => candidate.action === pending.action && !candidate.cancelRetry);
        if (!target) return;
        if (target.retries >= maxRetries) {
          this.#takePending((candidate) => candidate === target);
          target.reject(
            new RelayConnectionError('throttled', `the relay is too busy to take ${target.action} (API Gateway throttled it ${target.retries + 1} times); try again in a minute`),
          );
          return;
        }
        target.retries++;
        this.#owedAnswers.set(target.action, (this.#owedAnswers.get(target.action) ?? 0) + 1);
        this.#pacer.send(target.text);
      });
    }
  }

  /** Whether an answer no pending request takes is the late second answer to a request sent twice. */
  #owed(action: string | undefined): boolean {
    const owed = this.#owedAnswers.get(action as Answered) ?? 0;
    if (owed === 0) return false;
    this.#owedAnswers.set(action as Answered, owed - 1);
    return true;
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
    this.#pacer.clear();
    for (const request of this.#pending.splice(0)) request.reject(cause);
    this.#owedAnswers.clear();
    this.#events.closed(cause);
  }

  #onMessage(data: unknown): void {
    if (this.#closed) return;
    const text = String(data);
    // What API Gateway sends for a two-way route whose handler returned no body: nothing to read.
    if (text === '') return;
    let message: ServerMessage;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
      message = parseServerMessage(parsed);
    } catch (error) {
      const fromGateway = gatewayMessage(parsed);
      if (fromGateway !== undefined && isThrottle(fromGateway)) return this.#onThrottled();
      if (fromGateway !== undefined && this.#pending.length > 0) return this.#onGatewayFailure(fromGateway);
      this.#events.malformed(
        fromGateway !== undefined
          ? new ProtocolError(`API Gateway answered "${fromGateway}"`)
          : error instanceof ProtocolError
            ? error
            : new ProtocolError('the relay sent something that is not a relay message'),
      );
      return;
    }
    if (message.type === 'error') {
      const error = RelayError.fromReply(message);
      const request = this.#takePending((pending) => pending.action === message.requestAction);
      if (request) request.reject(error);
      else if (!this.#owed(message.requestAction)) this.#events.notice(message);
      return;
    }
    if (replyTypes.has(message.type)) {
      const reply = message as Reply;
      const request = this.#takePending((pending) => replyTypeOf[pending.action] === reply.type);
      const action = (Object.keys(replyTypeOf) as Answered[]).find((key) => replyTypeOf[key] === reply.type);
      if (request) request.resolve(reply);
      else if (reply.type === 'sessionActive' || reply.type === 'sessionExtended') this.#events.notice(reply);
      else if (!this.#owed(action)) this.#events.malformed(new Error(`unexpected ${reply.type} from the relay`));
      return;
    }
    this.#events.notice(message as Notice);
  }

  /**
   * API Gateway's own failure (an integration that failed or timed out), which names no message: a
   * request still unanswered a moment later is taken to be the one and fails with a sentence, instead
   * of waiting out its timeout. It is not sent again, as it may have been done; if the failure was
   * another message's (a frame's), the answer arrives meanwhile and nothing fails.
   */
  #onGatewayFailure(said: string): void {
    for (const pending of [...this.#pending]) {
      this.#clock.schedule(GATEWAY_FAILURE_GRACE_MS, () => {
        if (!this.#takePending((candidate) => candidate === pending)) return;
        pending.reject(
          new RelayConnectionError('relay-failed', `the relay failed to handle ${pending.action} (API Gateway answered "${said}"); try again, and if it keeps failing, tell the relay's operator`),
        );
      });
    }
  }

  /** The oldest pending request matching. */
  #takePending(matches: (request: PendingRequest) => boolean): PendingRequest | undefined {
    const index = this.#pending.findIndex(matches);
    return index < 0 ? undefined : this.#pending.splice(index, 1)[0];
  }
}

/**
 * A connection for a few requests outside any session (a device's enrolment, a technician's device list): `WebSocket`
 * is the caller's or the global one; nothing that arrives unasked is listened for.
 */
export function openRequestConnection(WebSocket: WebSocketConstructor | undefined, url: string, requestTimeoutMs = 15_000): Promise<RelayConnection> {
  const Socket = WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined);
  if (!Socket) throw new Error('no WebSocket here: pass one (in Node, import from sdk/node.js)');
  return RelayConnection.open(Socket, url, { notice: () => {}, malformed: () => {}, closed: () => {} }, { clock: systemClock, requestTimeoutMs });
}

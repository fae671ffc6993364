import { isUtf8 } from 'node:buffer';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { WebSocketEvent, WebSocketResult } from '../../functions/lib/events.js';
import { decodePathSegment } from '../../functions/lib/path-segment.js';
import { parseEnvelope } from '../../shared/core/parse.js';
import type { Chaos } from './chaos.js';
import { DEFAULT_STAGE_THROTTLE } from '../../shared/core/stage-throttle.js';

/** API Gateway's WebSocket limits, each configurable so tests can shorten them. */
export interface GatewayLimits {
  /** Largest message a client may send; bigger closes the connection with 1009, as API Gateway does. */
  maxMessageBytes: number;
  /**
   * Largest WebSocket frame a client may send (API Gateway: 32 KB); bigger closes the connection with
   * 1009. A message of up to maxMessageBytes may arrive in several frames; browsers and `ws` send every
   * message as one frame, so for them this is the message limit.
   */
  maxFrameBytes: number;
  /** A connection with no message from its client for this long is closed (API Gateway: 10 minutes). */
  idleTimeoutMs: number;
  /** Every connection is closed after this long (API Gateway: 2 hours). */
  maxConnectionMs: number;
  /**
   * Bytes waiting to go out to one client. A client that reads slower than it is sent to fills it;
   * then posts to it answer LimitExceededException (429), as API Gateway's do for a full client
   * buffer, and a reply to its own request closes it (1008): a reader that falls behind cannot grow
   * the relay. Above the SDK's stream window (1 MB of frames, ~1.4 MB on the wire).
   */
  maxBufferedBytes: number;
  /**
   * Messages per second one connection may send, refilling a bucket of messageBurst: the stage
   * throttle (messageRateLimit, messageBurstLimit in infra/relay-stack.ts). AWS applies it per route
   * across all connections, which holds any one connection at least as tight; beyond it a message is
   * dropped and the client told `Too Many Requests`, as API Gateway does.
   */
  messagesPerSecond: number;
  messageBurst: number;
  /**
   * Handler invocations one connection may have running at once; beyond it its messages are dropped
   * with `Too Many Requests`, as when Lambda's concurrency is exhausted. Handlers here share one
   * process, so without it a connection whose posts back up (a full peer buffer) would hold every
   * message it sends meanwhile.
   */
  maxConcurrentInvocations: number;
}

export const apiGatewayLimits: GatewayLimits = {
  maxMessageBytes: 128 * 1024,
  maxFrameBytes: 32 * 1024,
  idleTimeoutMs: 10 * 60 * 1000,
  maxConnectionMs: 2 * 60 * 60 * 1000,
  maxBufferedBytes: 4 * 1024 * 1024,
  ...DEFAULT_STAGE_THROTTLE,
  maxConcurrentInvocations: 100,
};

export type RouteHandler = (event: WebSocketEvent, context: object) => Promise<WebSocketResult | undefined>;

export interface GatewayOptions {
  host: string;
  /**
   * Another address to serve the same API at, on the same port, when it can (the other loopback
   * address: the console then opens at 127.0.0.1 and [::1] alike). Not served if it cannot be bound.
   */
  aliasHost?: string;
  port: number;
  stage: string;
  limits: GatewayLimits;
  /** Route key → handler; `$connect`, `$disconnect` and `$default` are API Gateway's own keys. */
  routes: Record<string, RouteHandler>;
  /**
   * The route keys with a route response (two-way routes): the result's body goes back to the caller. Every
   * other route is one-way, as on AWS by default: its result goes nowhere.
   */
  twoWayRoutes?: ReadonlySet<string>;
  /** Extra HTTP routes (health, pages); return false to fall through to 404. */
  http?: (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;
  /** Routes for the relay's own services (the SES stand-in), served with @connections on the loopback-only port. */
  internalHttp?: (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;
  chaos?: Chaos;
  tap?: GatewayTap;
}

/**
 * Test hook on everything the relay handles: each client message before routing, and each message
 * the relay sends (replies and @connections posts). Return a string to replace it, or null to drop it.
 * Used to prove what the relay sees and to play a malicious relay.
 */
export interface GatewayTap {
  fromClient?(connectionId: string, body: string): string | null;
  toClient?(connectionId: string, body: string): string | null;
}

interface LiveConnection {
  socket: WebSocket;
  connectedAt: number;
  lastActiveAt: number;
  sourceIp: string;
  userAgent: string;
  idleTimer: NodeJS.Timeout;
  lifetimeTimer: NodeJS.Timeout;
  /** Messages the client may still send now (the throttle's bucket), as of refilledAt. */
  tokens: number;
  refilledAt: number;
  /** Handler invocations for its messages still running. */
  running: number;
}

const CONNECTIONS_PATH = /^\/(?:([^/]+)\/)?@connections\/([^/?]+)$/;

/** API Gateway connection ids are 16 base64 characters ending in '='. */
const newConnectionId = () => randomBytes(11).toString('base64').slice(0, 15) + '=';

/** Whether a request comes from this machine (IPv4, IPv6 or IPv4-mapped loopback). */
export function isLoopbackClient(request: IncomingMessage): boolean {
  const address = request.socket.remoteAddress ?? '';
  return address === '::1' || /^(?:::ffff:)?127\./.test(address);
}

/** Where the management endpoint and the relay's own services listen, whatever address the public side binds. */
const INTERNAL_HOST = '127.0.0.1';

/**
 * A local stand-in for an API Gateway WebSocket API and its @connections management endpoint. As on
 * AWS, where @connections is reachable only with the account's credentials, the management endpoint
 * is not on the public address: it has its own port on loopback (internalUrl), whatever `host` is.
 */
export class LocalGateway {
  private readonly server: Server;
  private aliasServer: Server | undefined;
  private readonly internalServer: Server;
  private readonly sockets = new WebSocketServer({ noServer: true });
  private readonly connections = new Map<string, LiveConnection>();
  private readonly pendingInvocations = new Set<Promise<unknown>>();
  private domainName = '';
  /** @connections requests served, for benchmarks (management-API calls per relayed frame). */
  managementRequests = 0;

  constructor(private readonly options: GatewayOptions) {
    this.sockets.options.maxPayload = options.limits.maxMessageBytes;
    this.server = this.publicServer();
    this.internalServer = createServer((request, response) => void this.serveInternal(request, response));
  }

  private publicServer(): Server {
    const server = createServer((request, response) => void this.serveHttp(request, response));
    server.on('upgrade', (request, socket, head) => void this.upgrade(request, socket, head));
    return server;
  }

  /** The addresses the API is served at: `host`, and `aliasHost` when it could be bound. */
  get servedHosts(): string[] {
    return this.aliasServer && this.options.aliasHost ? [this.options.host, this.options.aliasHost] : [this.options.host];
  }

  async listen(): Promise<{ port: number; internalPort: number }> {
    const listen = (server: Server, port: number, host: string) =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as { port: number }).port));
      });
    const port = await listen(this.server, this.options.port, this.options.host);
    let internalPort: number;
    try {
      internalPort = await listen(this.internalServer, 0, INTERNAL_HOST);
    } catch (error) {
      await new Promise((resolve) => this.server.close(resolve));
      throw error;
    }
    if (this.options.aliasHost !== undefined) {
      const alias = this.publicServer();
      // No IPv6 on this machine, or that address's port taken by another program: then it is not served.
      this.aliasServer = await listen(alias, port, this.options.aliasHost).then(
        () => alias,
        () => undefined,
      );
    }
    this.domainName = `${this.options.host}:${port}`;
    return { port, internalPort };
  }

  /** The loopback-only base URL of @connections (`<internalUrl>/<stage>/@connections/…`) and the relay's own services. */
  get internalUrl(): string {
    const address = this.internalServer.address();
    if (!address || typeof address === 'string') throw new Error('the gateway is not listening');
    return `http://${INTERNAL_HOST}:${address.port}`;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Bytes the gateway holds for clients that have not taken them yet (tests bound it). */
  get bufferedBytes(): number {
    let total = 0;
    for (const { socket } of this.connections.values()) total += socket.bufferedAmount;
    return total;
  }

  /** Closes every connection (each gets its $disconnect), then stops listening. */
  async close(): Promise<void> {
    for (const connection of this.connections.values()) connection.socket.close(1001, 'Going away');
    await this.settle();
    this.sockets.close();
    const servers = [this.server, this.internalServer, ...(this.aliasServer ? [this.aliasServer] : [])];
    for (const server of servers) server.closeAllConnections();
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  /** Waits until no handler invocation is running (tests use it to observe a quiet relay). */
  async settle(): Promise<void> {
    while (this.pendingInvocations.size > 0) await Promise.allSettled([...this.pendingInvocations]);
  }

  connectionIds(): string[] {
    return [...this.connections.keys()];
  }

  private event(
    connectionId: string,
    routeKey: string,
    eventType: WebSocketEvent['requestContext']['eventType'],
    connection: Pick<LiveConnection, 'connectedAt' | 'sourceIp' | 'userAgent'>,
    extra: Partial<WebSocketEvent> = {},
  ): WebSocketEvent {
    const now = Date.now();
    return {
      requestContext: {
        routeKey,
        eventType,
        messageId: randomUUID(),
        extendedRequestId: randomUUID(),
        requestTime: new Date(now).toUTCString(),
        messageDirection: 'IN',
        stage: this.options.stage,
        connectedAt: connection.connectedAt,
        requestTimeEpoch: now,
        requestId: randomUUID(),
        domainName: this.domainName,
        connectionId,
        apiId: 'local',
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
      },
      isBase64Encoded: false,
      ...extra,
    };
  }

  private invoke(routeKey: string, event: WebSocketEvent): Promise<WebSocketResult | undefined> {
    const handler = this.options.routes[routeKey];
    if (!handler) return Promise.resolve(undefined);
    const context = { awsRequestId: event.requestContext.requestId, functionName: `local-${routeKey}`, getRemainingTimeInMillis: () => 29_000 };
    const invocation = (async () => {
      await this.options.chaos?.beforeInvocation();
      return handler(event, context);
    })();
    this.pendingInvocations.add(invocation);
    void invocation.finally(() => this.pendingInvocations.delete(invocation)).catch(() => {});
    return invocation;
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // API Gateway upgrades only at the stage's path (wss://<api>/<stage>); any other path is a 403.
    if (new URL(request.url ?? '/', 'http://local').pathname !== `/${this.options.stage}`) {
      socket.end(`HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 23\r\n\r\n{"message":"Forbidden"}`);
      return;
    }
    const connectionId = newConnectionId();
    const identity = {
      connectedAt: Date.now(),
      sourceIp: request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
      userAgent: request.headers['user-agent'] ?? '',
    };
    const { headers, queryStringParameters } = requestParts(request);
    let result: WebSocketResult | undefined;
    try {
      result = await this.invoke('$connect', this.event(connectionId, '$connect', 'CONNECT', identity, { headers, queryStringParameters }));
    } catch {
      result = { statusCode: 500 };
    }
    const status = result?.statusCode ?? 200;
    if (status < 200 || status > 299) {
      socket.end(`HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    this.sockets.handleUpgrade(request, socket, head, (webSocket) => {
      limitFrameSize(webSocket, this.options.limits.maxFrameBytes);
      this.accept(connectionId, webSocket, identity);
    });
  }

  private accept(connectionId: string, socket: WebSocket, identity: Pick<LiveConnection, 'connectedAt' | 'sourceIp' | 'userAgent'>): void {
    const { limits } = this.options;
    const connection: LiveConnection = {
      socket,
      ...identity,
      lastActiveAt: Date.now(),
      // Restarted by each message (refresh(): no new timer per message).
      idleTimer: setTimeout(() => socket.close(1001, 'Going away'), limits.idleTimeoutMs),
      lifetimeTimer: setTimeout(() => socket.close(1001, 'Going away'), limits.maxConnectionMs),
      tokens: limits.messageBurst,
      refilledAt: Date.now(),
      running: 0,
    };
    this.connections.set(connectionId, connection);
    const stopChaos = this.options.chaos?.watchConnection(() => socket.terminate());

    socket.on('message', (data, isBinary) => {
      connection.lastActiveAt = Date.now();
      connection.idleTimer.refresh();
      if (isBinary) {
        // API Gateway routes text messages only.
        socket.close(1003, 'Binary frames are not supported');
        return;
      }
      if (connection.running >= limits.maxConcurrentInvocations || !this.takeToken(connection)) {
        // Dropped before anything reads it, so a flood costs the relay no more than its socket reads.
        this.deliver(connectionId, connection, JSON.stringify({ message: 'Too Many Requests', connectionId, requestId: randomUUID() }));
        return;
      }
      const body = this.tapped('fromClient', connectionId, data.toString());
      if (body === null) return;
      connection.running++;
      void this.routeMessage(connectionId, connection, body).finally(() => connection.running--);
    });
    socket.on('close', (code, reason) => {
      clearTimeout(connection.idleTimer);
      clearTimeout(connection.lifetimeTimer);
      stopChaos?.();
      this.connections.delete(connectionId);
      // Best effort on AWS too: the connection is already closed, and chaos may lose its $disconnect.
      if (this.options.chaos?.dropsDisconnect()) return;
      const event = this.event(connectionId, '$disconnect', 'DISCONNECT', connection);
      Object.assign(event.requestContext, { disconnectStatusCode: code, disconnectReason: reason.toString() });
      void this.invoke('$disconnect', event).catch(() => {});
    });
    socket.on('error', () => socket.terminate());
  }

  /**
   * Route selection on `$request.body.action`, as the stack configures it, and the route response as API
   * Gateway sends it: a two-way route's result body goes back to the caller as it is, JSON or not, whatever
   * the status code, and a result without a body as an empty message; a one-way route sends nothing back.
   * An integration that fails (the handler throws) gets API Gateway's own `Internal server error` either way.
   */
  private async routeMessage(connectionId: string, connection: LiveConnection, body: string): Promise<void> {
    const routeKey = this.selectRoute(body);
    let answer: string | undefined;
    try {
      const result = await this.invoke(routeKey, this.event(connectionId, routeKey, 'MESSAGE', connection, { body }));
      if (this.options.twoWayRoutes?.has(routeKey)) answer = typeof result?.body === 'string' ? result.body : '';
    } catch {
      answer = JSON.stringify({ message: 'Internal server error', connectionId, requestId: randomUUID() });
    }
    if (answer !== undefined && connection.socket.readyState === connection.socket.OPEN && !this.deliver(connectionId, connection, answer)) {
      // It does not read even the answers to its own requests: cut it off, and its buffer goes with it.
      connection.socket.close(1008, 'Message buffer full');
      connection.socket.terminate();
    }
  }

  /** The stage throttle's token bucket, per connection. */
  private takeToken(connection: LiveConnection): boolean {
    const { messagesPerSecond, messageBurst } = this.options.limits;
    const now = Date.now();
    connection.tokens = Math.min(messageBurst, connection.tokens + ((now - connection.refilledAt) / 1000) * messagesPerSecond);
    connection.refilledAt = now;
    if (connection.tokens < 1) return false;
    connection.tokens -= 1;
    return true;
  }

  private tapped(direction: keyof GatewayTap, connectionId: string, body: string): string | null {
    const tap = this.options.tap?.[direction];
    return tap ? tap(connectionId, body) : body;
  }

  /**
   * Sends to the client, as a text message, unless its buffer is full (false: not sent). A post's body goes
   * out as the bytes it came in (valid UTF-8: what the handlers post), not decoded and encoded again: for a
   * 32 KB frame that was two passes over it on every relayed frame. A tap sees and returns text.
   */
  private deliver(connectionId: string, connection: LiveConnection, body: string | Buffer): boolean {
    let message = body;
    if (this.options.tap?.toClient) {
      const tapped = this.tapped('toClient', connectionId, typeof body === 'string' ? body : body.toString('utf8'));
      if (tapped === null) return true;
      message = tapped;
    }
    const bytes = typeof message === 'string' ? Buffer.byteLength(message) : message.length;
    if (connection.socket.bufferedAmount + bytes > this.options.limits.maxBufferedBytes) return false;
    connection.socket.send(message, { binary: false });
    return true;
  }

  /**
   * With the handlers' own envelope parser, which remembers the body it parsed last: the route's handler then
   * reuses this parse instead of parsing the message again.
   */
  private selectRoute(body: string): string {
    let action: string | undefined;
    try {
      ({ action } = parseEnvelope(body));
    } catch {
      // Not JSON, or not an object: API Gateway falls back to $default.
      return '$default';
    }
    // Own properties only: `__proto__`, `constructor` or `toString` name no route, as on API Gateway.
    if (action !== undefined && Object.hasOwn(this.options.routes, action) && !action.startsWith('$')) return action;
    return '$default';
  }

  private serveHttp(request: IncomingMessage, response: ServerResponse): Promise<void> {
    return answer(response, async () => (await this.options.http?.(request, response)) ?? false);
  }

  /** The loopback-only port: @connections, then the relay's own services. */
  private serveInternal(request: IncomingMessage, response: ServerResponse): Promise<void> {
    return answer(response, async () => {
      const pathname = new URL(request.url ?? '/', 'http://local').pathname;
      if (!CONNECTIONS_PATH.test(pathname)) return (await this.options.internalHttp?.(request, response)) ?? false;
      send(response, this.manageConnection(request.method ?? 'GET', pathname, await readBody(request, this.options.limits.maxMessageBytes + 1)));
      return true;
    });
  }

  /**
   * The @connections API, whatever carries the request (the HTTP endpoint, or the handlers' in-process
   * request handler): POST sends, GET describes, DELETE closes; unknown connections answer 410 Gone.
   * `path` is `/<stage>/@connections/<id, URL-encoded>`.
   */
  manageConnection(method: string, path: string, body: Uint8Array): HttpAnswer {
    const match = CONNECTIONS_PATH.exec(path);
    const connectionId = match ? decodePathSegment(match[2] ?? '') : undefined;
    if (connectionId === undefined) return errorAnswer(400, 'BadRequestException', 'Invalid connection id');
    this.managementRequests++;
    const connection = this.connections.get(connectionId);
    if (!connection || connection.socket.readyState !== connection.socket.OPEN) {
      return errorAnswer(410, 'GoneException', `Connection ${connectionId} is gone`);
    }
    switch (method) {
      case 'POST': {
        if (body.length > this.options.limits.maxMessageBytes) return errorAnswer(413, 'PayloadTooLargeException', 'Message too long');
        const fate = this.options.chaos?.postFate() ?? 'deliver';
        if (fate === 'throttle') return errorAnswer(429, 'LimitExceededException', 'Rate exceeded');
        if (fate === 'deliver' && !this.deliver(connectionId, connection, textOf(body))) {
          return errorAnswer(429, 'LimitExceededException', 'The client has not read what was sent to it');
        }
        return { status: 200, headers: {}, body: '' };
      }
      case 'GET':
        return jsonAnswer(200, {
          // The REST API's JSON names, which the SDK maps to ConnectedAt, Identity.SourceIp, …
          connectedAt: new Date(connection.connectedAt).toISOString(),
          lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
          identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
        });
      case 'DELETE':
        connection.socket.close(1000, 'Closed by the relay');
        return { status: 204, headers: {}, body: '' };
      default:
        return errorAnswer(405, 'BadRequestException', 'Method not allowed');
    }
  }
}

/** A post's body as a text message: its bytes when they are UTF-8, else decoded with replacement characters, as before. */
function textOf(body: Uint8Array): Buffer | string {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.length);
  return isUtf8(bytes) ? bytes : bytes.toString('utf8');
}

interface FrameReceiver {
  _opcode: number;
  _payloadLength: number;
  haveLength(this: FrameReceiver, callback: (error?: Error) => void): void;
  createError(type: typeof RangeError, message: string, prefix: boolean, statusCode: number, errorCode: string): Error;
}

/**
 * Closes the connection with 1009 when a client sends a data frame larger than maxFrameBytes, as API
 * Gateway does. `ws` limits only whole messages (maxPayload), so this wraps its receiver's step that has
 * just read a frame's length (ws 8, pinned); control frames are at most 125 bytes anyway.
 */
function limitFrameSize(socket: WebSocket, maxFrameBytes: number): void {
  const receiver = (socket as unknown as { _receiver: FrameReceiver })._receiver;
  const haveLength = receiver.haveLength;
  receiver.haveLength = function (callback) {
    if (this._opcode < 0x08 && this._payloadLength > maxFrameBytes) {
      callback(this.createError(RangeError, 'Frame size exceeded', false, 1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'));
      return;
    }
    haveLength.call(this, callback);
  };
}

/** A response of the gateway's own endpoints (@connections): status, lower-case headers and body. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const jsonAnswer = (status: number, body: unknown): HttpAnswer => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Errors in the shape the AWS SDK's REST-JSON deserializer maps to typed exceptions. */
const errorAnswer = (status: number, type: string, message: string): HttpAnswer => ({
  status,
  headers: { 'content-type': 'application/json', 'x-amzn-errortype': type },
  body: JSON.stringify({ message }),
});

/** Runs `serve`; 404 if it served nothing, 500 if it failed before answering. */
async function answer(response: ServerResponse, serve: () => Promise<boolean>): Promise<void> {
  try {
    if (!(await serve())) send(response, jsonAnswer(404, { message: 'Not Found' }));
  } catch {
    // A handler that failed after starting its answer can only be cut off.
    if (response.headersSent) response.destroy();
    else send(response, jsonAnswer(500, { message: 'Internal server error' }));
  }
}

/** The parts of an HTTP request that API Gateway puts in its events: single-valued headers and query. */
export function requestParts(request: IncomingMessage) {
  const url = new URL(request.url ?? '/', 'http://local');
  const headers = Object.fromEntries(
    Object.entries(request.headers).flatMap(([name, value]) => (typeof value === 'string' ? [[name, value]] : [])),
  );
  const queryStringParameters = url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : undefined;
  return { url, headers, queryStringParameters };
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  // The first `limit` bytes: a body cut there is still longer than any accepted one.
  for await (const chunk of request as AsyncIterable<Buffer>) {
    if (size < limit) chunks.push(chunk.subarray(0, limit - size));
    size += chunk.length;
  }
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, { status, headers, body }: HttpAnswer): void {
  response.writeHead(status, headers).end(body);
}

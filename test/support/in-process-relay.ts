// The relay for client tests: the real route handlers (functions/, so the real parsing, use cases and
// typed errors) over the in-memory adapters, behind a WebSocket server on 127.0.0.1 that dispatches as
// API Gateway does ($connect, the action's route or $default, $disconnect). Nothing of the invitation
// rules lives here. For outages it can drop and delay (so reorder) frames, cut connections, refuse new
// ones, stay silent, send what a relay could send, or move its clock.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { WebSocketEvent } from '../../functions/lib/events.js';
import { isOneWay, webSocketRoutes, type WebSocketRouteKey } from '../../functions/lib/routes.js';
import { routeHandlers } from '../../infra/local/runtime.js';
import { seededRandom } from '../../infra/local/chaos.js';
import type { RelayPolicy } from '../../shared/server/config/policy.js';
import type { AuditEvent, ClientMessage, EndReason, Role, ServerMessage } from '../../shared/core/messages.js';
import { finishSession } from '../../shared/server/use-cases/finish-session.js';
import { recordExpiry } from '../../shared/server/use-cases/sessions.js';
import type { RelayClient, RelayClientOptions } from '../../sdk/client.js';
import { createRelayClient } from '../../sdk/node.js';
import { MemoryRelay, SteppedClock } from './memory-relay.js';

export interface InProcessRelayOptions {
  /** Probability that a frame is lost on its way to the peer. */
  dropRate?: number;
  /** Each frame waits a random 0..maxDelayMs before delivery, so frames overtake each other. */
  maxDelayMs?: number;
  seed?: number;
  policy?: Partial<RelayPolicy>;
}

type RouteHandler = (event: WebSocketEvent, context: object) => Promise<{ statusCode: number; body?: string } | undefined>;

const isFrame = (body: string) => body.startsWith('{"type":"frame"');

export class InProcessRelay {
  /** Every request the relay received, parsed, in order. */
  readonly requests: ClientMessage[] = [];
  /** Frames received from each role, whether delivered or not. */
  readonly framesFrom: Record<Role, number> = { agent: 0, expert: 0 };
  /** New connections are refused while true (as an unreachable relay would). */
  refuseConnections = false;
  /** Actions the relay never answers. */
  readonly ignoredActions = new Set<ClientMessage['action']>();
  /** Called for each request received, after it is recorded in `requests`. */
  onRequest: (request: ClientMessage) => void = () => {};
  /** Called for each frame received; used to cut connections at chosen moments. */
  onFrame: (from: Role) => void = () => {};
  /** The use cases' dependencies and adapters: the store, audit trail, mailer and clock. */
  readonly memory: MemoryRelay;

  readonly #server: WebSocketServer;
  readonly #sockets = new Map<string, WebSocket>();
  /** The role each connection took, as its answers said (sessionCreated, sessionJoined, sessionResumed). */
  readonly #roles = new Map<string, Role>();
  readonly #sessionIds: string[] = [];
  readonly #random: () => number;
  readonly #options: Required<Omit<InProcessRelayOptions, 'policy'>>;
  #routes: Record<string, RouteHandler> = {};

  private constructor(server: WebSocketServer, options: InProcessRelayOptions) {
    this.#server = server;
    this.#options = { dropRate: 0, maxDelayMs: 0, seed: 1, ...options };
    this.#random = seededRandom(this.#options.seed);
    const { port } = server.address() as AddressInfo;
    this.memory = new MemoryRelay({
      clock: new SteppedClock(Date.now),
      policy: options.policy,
      endpoints: { webSocketUrl: `ws://127.0.0.1:${port}`, httpUrl: `http://127.0.0.1:${port}` },
      notifier: {
        record: false,
        deliver: (connectionId, body) => this.#deliver(connectionId, body),
        close: (connectionId) => this.#sockets.get(connectionId)?.close(1000, 'Closed by the relay'),
      },
    });
    server.on('connection', (socket, request) => void this.#connected(socket, request.socket.remoteAddress ?? '127.0.0.1'));
  }

  static async start(options: InProcessRelayOptions = {}): Promise<InProcessRelay> {
    let relay: InProcessRelay | undefined;
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: (_info, accept) => accept(!relay?.refuseConnections, 503) });
    await new Promise((resolve) => server.once('listening', resolve));
    relay = new InProcessRelay(server, options);
    relay.#routes = (await routeHandlers(() => () => relay.memory.deps)) as Record<string, RouteHandler>;
    return relay;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Resolves when the relay receives a request for `action` (whether it answers it or not). */
  received(action: ClientMessage['action']): Promise<void> {
    return new Promise((resolve) => {
      const before = this.onRequest;
      this.onRequest = (request) => {
        before(request);
        if (request.action !== action) return;
        this.onRequest = before;
        resolve();
      };
    });
  }

  /** Cuts every connection of this role abruptly, as a network failure would. */
  dropConnection(role: Role): void {
    for (const [connectionId, socket] of this.#sockets) if (this.#roles.get(connectionId) === role) socket.terminate();
  }

  /** Sends a message to every connection of this role, as anything the relay posts is sent. */
  notify(role: Role, message: ServerMessage): void {
    for (const connectionId of this.#sockets.keys()) {
      if (this.#roles.get(connectionId) === role) void this.memory.notifier.post(connectionId, message);
    }
  }

  /** The audit log of the newest session. */
  async audit(): Promise<AuditEvent[]> {
    const newest = this.#sessionIds.at(-1);
    return newest ? this.memory.audit.list(newest) : [];
  }

  /** Ends every open session with `reason`, as the relay ends one: both sides told, their connections closed. */
  async endSessions(reason: EndReason): Promise<void> {
    for await (const session of this.memory.store.listOpenSessions()) await finishSession(this.memory.deps, session.sessionId, reason);
  }

  /** Moves every approved session's hard expiry later, telling nobody (as an extension made while a side was away). */
  async extendSessions(seconds: number): Promise<void> {
    for await (const session of this.memory.store.listOpenSessions()) {
      const expiresAt = session.sessionExpiresAt + seconds;
      await this.memory.store.extendSession(session.sessionId, expiresAt, recordExpiry({ sessionExpiresAt: expiresAt }));
    }
  }

  /** Moves the relay's clock past every session's and record's lifetime: resumes are refused from now on. */
  forgetSessions(): void {
    this.memory.advanceSeconds(3 * 24 * 60 * 60);
  }

  async stop(): Promise<void> {
    for (const socket of this.#server.clients) socket.terminate();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  async #connected(socket: WebSocket, sourceIp: string): Promise<void> {
    const connectionId = randomUUID();
    const event = (routeKey: string, eventType: WebSocketEvent['requestContext']['eventType'], body?: string) =>
      ({ requestContext: { routeKey, eventType, connectionId, identity: { sourceIp } }, isBase64Encoded: false, body }) as WebSocketEvent;
    this.#sockets.set(connectionId, socket);
    this.memory.notifier.connect(connectionId);
    // Messages wait for $connect, as API Gateway accepts none before it answered.
    const connected = this.#invoke(event('$connect', 'CONNECT'));
    socket.on('message', (data) => {
      const body = data.toString();
      void connected.then(() => this.#message(socket, connectionId, body, event('$default', 'MESSAGE', body)));
    });
    socket.on('close', () => {
      this.#sockets.delete(connectionId);
      this.memory.notifier.gone(connectionId);
      void connected.then(() => this.#invoke(event('$disconnect', 'DISCONNECT')));
    });
    await connected;
  }

  async #message(socket: WebSocket, connectionId: string, body: string, event: WebSocketEvent): Promise<void> {
    let request: ClientMessage | undefined;
    try {
      request = JSON.parse(body) as ClientMessage;
      this.requests.push(request);
      this.onRequest(request);
    } catch {
      // Malformed: $default tells the client.
    }
    const action = request?.action;
    if (action && this.ignoredActions.has(action)) return;
    const role = this.#roles.get(connectionId);
    if (action === 'frame' && role) {
      this.framesFrom[role]++;
      this.onFrame(role);
    }
    const routeKey = (action && Object.hasOwn(webSocketRoutes, action) && !action.startsWith('$') ? action : '$default') as WebSocketRouteKey;
    event.requestContext.routeKey = routeKey;
    const reply = (await this.#invoke(event))?.body;
    // As on API Gateway, only a two-way route's result goes back to the caller.
    if (!reply || isOneWay(routeKey)) return;
    const answer = JSON.parse(reply) as ServerMessage & { role?: Role; sessionId?: string };
    if (answer.type === 'sessionCreated' || answer.type === 'sessionJoined' || answer.type === 'sessionResumed') {
      this.#roles.set(connectionId, answer.role);
      if (answer.type === 'sessionCreated') this.#sessionIds.push(answer.sessionId);
    }
    if (socket.readyState === socket.OPEN) socket.send(reply);
  }

  #invoke(event: WebSocketEvent) {
    return this.#routes[event.requestContext.routeKey]!(event, {});
  }

  /** A post reaches its socket; frames may be lost or delayed on the way. */
  #deliver(connectionId: string, body: string): 'delivered' | 'gone' {
    const socket = this.#sockets.get(connectionId);
    if (!socket || socket.readyState !== socket.OPEN) return 'gone';
    if (isFrame(body)) {
      if (this.#random() < this.#options.dropRate) return 'delivered';
      const delay = this.#random() * this.#options.maxDelayMs;
      if (delay >= 1) {
        setTimeout(() => socket.readyState === socket.OPEN && socket.send(body), delay);
        return 'delivered';
      }
    }
    socket.send(body);
    return 'delivered';
  }
}

/** An in-process relay for one test, and a factory of clients connected to it; `defer` closes them all after the test. */
export async function inProcessRelayWithClients(
  defer: (cleanup: () => unknown) => void,
  clientOptions: Partial<Omit<RelayClientOptions, 'WebSocket' | 'url'>> = {},
  relayOptions: InProcessRelayOptions = {},
): Promise<{ relay: InProcessRelay; newClient: () => RelayClient }> {
  const relay = await InProcessRelay.start(relayOptions);
  defer(() => relay.stop());
  const newClient = () => {
    const client = createRelayClient({ url: relay.url, ...clientOptions });
    defer(() => client.close());
    return client;
  };
  return { relay, newClient };
}

// A tiny in-process relay for client tests, speaking the wire protocol of shared/protocol/messages.ts
// over real WebSockets on 127.0.0.1, with the invitation lifecycle of docs/invitations.md (creator and
// joiner, approval, failed attempts, leaving). It can drop and delay (so reorder) frames, cut
// connections, refuse new ones, stay silent, or forget its sessions, so tests can put the client
// through outages.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  MAX_PRE_APPROVAL_FRAME_DATA_CHARS,
  type AuditEvent,
  type ClientMessage,
  type EndReason,
  type InvitationKind,
  type Role,
  type ServerMessage,
} from '../../../../shared/protocol/messages.js';
import { CODE_ALPHABET } from '../../../../shared/relay/codes.js';
import type { RelayClient, RelayClientOptions } from '../../../../sdk/client.js';
import { createRelayClient } from '../../../../sdk/node.js';
import { seededRandom } from './random.js';

interface Seat {
  resumeToken: string;
  /** The token the newest replaced, good until the newest is used (the reply carrying it may be lost). */
  previousToken?: string;
  socket?: WebSocket;
}

interface Session {
  sessionId: string;
  nameplate: string;
  kind: InvitationKind;
  creator: Role;
  seats: Partial<Record<Role, Seat>>;
  approved: boolean;
  /** The hard expiry once approved, epoch seconds. */
  expiresAt?: number;
  failedAttempts: number;
  audit: AuditEvent[];
  /** Set once the session ends. */
  endedReason?: EndReason;
}

interface Binding {
  session: Session;
  role: Role;
}

export interface FakeRelayOptions {
  dropRate?: number;
  /** Each frame waits a random 0..maxDelayMs before delivery, so frames overtake each other. */
  maxDelayMs?: number;
  seed?: number;
  /** Failed confirmations that burn an invitation. Default 3. */
  maxFailedAttempts?: number;
}

const other = (role: Role): Role => (role === 'agent' ? 'expert' : 'agent');

export class FakeRelay {
  readonly requests: ClientMessage[] = [];
  /** Frames received from each role, whether delivered or not. */
  readonly framesFrom: Record<Role, number> = { agent: 0, expert: 0 };
  /** New connections are refused while true (as an unreachable relay would). */
  refuseConnections = false;
  /** Actions the relay never answers. */
  readonly ignoredActions = new Set<ClientMessage['action']>();
  /** Emails the relay was asked to send. */
  readonly emails: Extract<ClientMessage, { action: 'emailInvitation' }>[] = [];
  /** Called for each frame received; used to cut connections at chosen moments. */
  onFrame: (from: Role) => void = () => {};

  readonly #server: WebSocketServer;
  readonly #sessions = new Map<string, Session>();
  readonly #bindings = new Map<WebSocket, Binding>();
  readonly #random: () => number;
  readonly #options: Required<FakeRelayOptions>;

  private constructor(server: WebSocketServer, options: FakeRelayOptions) {
    this.#server = server;
    this.#options = { dropRate: 0, maxDelayMs: 0, seed: 1, maxFailedAttempts: 3, ...options };
    this.#random = seededRandom(this.#options.seed);
    server.on('connection', (socket) => {
      socket.on('message', (data) => this.#onMessage(socket, JSON.parse(data.toString()) as ClientMessage));
      socket.on('close', () => this.#onClose(socket));
    });
  }

  static async start(options: FakeRelayOptions = {}): Promise<FakeRelay> {
    let relay: FakeRelay | undefined;
    const server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      verifyClient: (_info, accept) => accept(!relay?.refuseConnections, 503),
    });
    await new Promise((resolve) => server.once('listening', resolve));
    relay = new FakeRelay(server, options);
    return relay;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Cuts a participant's connection abruptly, as a network failure would. */
  dropConnection(role: Role): void {
    for (const session of this.#sessions.values()) session.seats[role]?.socket?.terminate();
  }

  /** Sends a message to a participant, as the relay's own notices are sent. */
  notify(role: Role, message: ServerMessage): void {
    for (const session of this.#sessions.values()) this.#send(session.seats[role]?.socket, message);
  }

  /** The audit log of the only (or newest) session. */
  get audit(): AuditEvent[] {
    return [...this.#sessions.values()].at(-1)?.audit ?? [];
  }

  /** Ends every session with `reason`, telling both sides and closing their connections. */
  endSessions(reason: EndReason): void {
    for (const session of this.#sessions.values()) this.#end(session, reason);
  }

  /** Moves every approved session's hard expiry later, telling nobody (as an extension made while a side was away). */
  extendSessions(seconds: number): void {
    for (const session of this.#sessions.values()) if (session.expiresAt !== undefined) session.expiresAt += seconds;
  }

  /** Loses all state, as if sessions had expired: resumes are refused from now on. */
  forgetSessions(): void {
    this.#sessions.clear();
  }

  async stop(): Promise<void> {
    for (const socket of this.#server.clients) socket.terminate();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #onMessage(socket: WebSocket, request: ClientMessage): void {
    this.requests.push(request);
    if (this.ignoredActions.has(request.action)) return;
    const reply = (message: ServerMessage) => this.#send(socket, message);
    const fail = (code: Extract<ServerMessage, { type: 'error' }>['code']) =>
      reply({ type: 'error', code, message: `fake relay: ${code}`, requestAction: request.action });
    const binding = this.#bindings.get(socket);
    switch (request.action) {
      case 'createSession': {
        const kind = request.kind ?? 'easy-connect';
        const creator: Role = kind === 'helper-code' ? 'expert' : 'agent';
        const session: Session = {
          sessionId: randomUUID(),
          nameplate: this.#newNameplate(),
          kind,
          creator,
          seats: {},
          approved: false,
          failedAttempts: 0,
          audit: [],
        };
        this.#sessions.set(session.sessionId, session);
        this.#record(session, 'created', creator);
        reply({ type: 'sessionCreated', nameplate: session.nameplate, ...this.#seat(session, creator, socket) });
        return;
      }
      case 'joinSession': {
        const session = [...this.#sessions.values()].find((candidate) => candidate.nameplate === request.nameplate && !candidate.approved);
        if (!session || session.endedReason) return fail('session-not-found');
        const joiner = other(session.creator);
        if (session.seats[joiner]) return fail('role-taken');
        this.#record(session, 'joined', joiner);
        reply({ type: 'sessionJoined', nameplate: session.nameplate, ...this.#seat(session, joiner, socket) });
        this.#send(session.seats[session.creator]?.socket, { type: 'peer', state: 'connected' });
        return;
      }
      case 'resumeSession': {
        const session = this.#sessions.get(request.sessionId);
        const opens = (seat: Seat | undefined) => seat !== undefined && (seat.resumeToken === request.resumeToken || seat.previousToken === request.resumeToken);
        const role = (['agent', 'expert'] as const).find((candidate) => opens(session?.seats[candidate]));
        if (!session || !role) return fail('invalid-resume-token');
        if (session.endedReason) {
          return reply({ type: 'error', code: 'session-ended', message: 'fake relay: session-ended', requestAction: request.action, endReason: session.endedReason });
        }
        const seat = session.seats[role]!;
        seat.socket?.terminate();
        // Tokens rotate as at the relay.
        seat.previousToken = request.resumeToken;
        seat.resumeToken = randomUUID();
        reply({ type: 'sessionResumed', ...this.#seat(session, role, socket) });
        this.#send(session.seats[other(role)]?.socket, { type: 'peer', state: 'connected' });
        return;
      }
      case 'frame': {
        if (!binding) return fail('not-in-session');
        if (!binding.session.approved && request.data.length > MAX_PRE_APPROVAL_FRAME_DATA_CHARS) return fail('not-approved');
        this.framesFrom[binding.role]++;
        this.onFrame(binding.role);
        const peer = binding.session.seats[other(binding.role)]?.socket;
        if (!peer) return reply({ type: 'peer', state: 'disconnected' });
        if (this.#random() < this.#options.dropRate) return;
        const message: ServerMessage = { type: 'frame', data: request.data };
        const delay = this.#random() * this.#options.maxDelayMs;
        if (delay < 1) this.#send(peer, message);
        else setTimeout(() => this.#send(peer, message), delay);
        return;
      }
      case 'approveSession': {
        if (!binding) return fail('not-in-session');
        const { session } = binding;
        if (binding.role !== 'agent') return fail('wrong-role');
        if (session.approved || !session.seats.expert) return fail('invalid-state');
        session.approved = true;
        session.expiresAt = Math.floor(Date.now() / 1000) + 7200;
        this.#record(session, 'approved', 'agent', request.mode);
        const active: ServerMessage = { type: 'sessionActive', mode: request.mode, expiresAt: session.expiresAt };
        reply(active);
        this.#send(session.seats.expert?.socket, active);
        return;
      }
      case 'reportFailedAttempt': {
        if (!binding) return fail('not-in-session');
        const { session } = binding;
        if (binding.role !== session.creator) return fail('wrong-role');
        if (session.approved) return fail('invalid-state');
        session.failedAttempts++;
        this.#record(session, 'confirmation-failed', binding.role);
        const burned = session.failedAttempts >= this.#options.maxFailedAttempts;
        reply({ type: 'attemptRecorded', failedAttempts: session.failedAttempts, maxFailedAttempts: this.#options.maxFailedAttempts, burned });
        if (burned) return this.#end(session, 'burned');
        return this.#removeJoiner(session, 'confirmation-failed');
      }
      case 'recordEvent':
        if (!binding) return fail('not-in-session');
        if (binding.role !== 'agent') return fail('wrong-role');
        this.#record(binding.session, request.event, 'agent');
        return reply({ type: 'eventRecorded', event: request.event });
      case 'emailInvitation':
        if (!binding) return fail('not-in-session');
        if (binding.role !== 'agent' || binding.session.kind !== 'file') return fail('wrong-role');
        this.emails.push(request);
        this.#record(binding.session, 'emailed', 'agent');
        return reply({ type: 'invitationEmailed', to: request.to });
      case 'listAudit':
        if (!binding) return fail('not-in-session');
        return reply({ type: 'auditLog', sessionId: binding.session.sessionId, events: binding.session.audit });
      case 'endSession': {
        if (!binding) return fail('not-in-session');
        const { session, role } = binding;
        if (request.reason === 'denied') return role === 'agent' ? this.#end(session, 'denied') : fail('wrong-role');
        if (request.reason === 'idle-timeout') return role === 'agent' && session.approved ? this.#end(session, 'idle-timeout') : fail('wrong-role');
        if (role !== session.creator && !session.approved) return this.#removeJoiner(session, role === 'agent' ? 'ended-by-agent' : 'ended-by-expert');
        if (role === session.creator && !session.seats[other(role)]) return this.#end(session, 'revoked');
        return this.#end(session, role === 'agent' ? 'ended-by-agent' : 'ended-by-expert');
      }
    }
  }

  /** The joiner left or failed: it is told and disconnected, the creator learns it left, the invitation reopens. */
  #removeJoiner(session: Session, joinerReason: EndReason): void {
    const joiner = other(session.creator);
    const seat = session.seats[joiner];
    if (!seat) return;
    delete session.seats[joiner];
    if (seat.socket) {
      this.#bindings.delete(seat.socket);
      this.#send(seat.socket, { type: 'ended', reason: joinerReason });
      seat.socket.close(1000);
    }
    this.#record(session, 'left', joiner);
    this.#send(session.seats[session.creator]?.socket, { type: 'peer', state: 'left' });
  }

  #record(session: Session, event: AuditEvent['event'], role: Role, detail?: string): void {
    session.audit.push({ at: Math.floor(Date.now() / 1000), event, role, ...(detail === undefined ? {} : { detail }) });
  }

  #newNameplate(): string {
    return Array.from({ length: 4 }, () => CODE_ALPHABET[Math.floor(this.#random() * 32)]).join('');
  }

  #seat(session: Session, role: Role, socket: WebSocket) {
    const seat = (session.seats[role] ??= { resumeToken: randomUUID() });
    seat.socket = socket;
    this.#bindings.set(socket, { session, role });
    const now = Math.floor(Date.now() / 1000);
    return {
      sessionId: session.sessionId,
      role,
      kind: session.kind,
      invitationExpiresAt: now + 1800,
      maxFailedAttempts: this.#options.maxFailedAttempts,
      resumeToken: seat.resumeToken,
      expiresAt: session.expiresAt ?? now + 3600,
      idleTimeoutSeconds: 900,
      resumeGraceSeconds: 300,
      peerConnected: Boolean(session.seats[other(role)]?.socket),
    };
  }

  #onClose(socket: WebSocket): void {
    const binding = this.#bindings.get(socket);
    this.#bindings.delete(socket);
    if (!binding || binding.session.seats[binding.role]?.socket !== socket) return;
    binding.session.seats[binding.role]!.socket = undefined;
    if (!binding.session.endedReason) {
      this.#send(binding.session.seats[other(binding.role)]?.socket, { type: 'peer', state: 'disconnected' });
    }
  }

  #end(session: Session, reason: EndReason): void {
    session.endedReason = reason;
    this.#record(session, 'ended', session.creator, reason);
    for (const seat of Object.values(session.seats)) {
      this.#send(seat.socket, { type: 'ended', reason });
      seat.socket?.close(1000);
    }
  }

  #send(socket: WebSocket | undefined, message: ServerMessage): void {
    if (socket && socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  }
}

/** A fake relay for one test, and a factory of clients connected to it; `defer` closes them all after the test. */
export async function fakeRelayWithClients(
  defer: (cleanup: () => unknown) => void,
  clientOptions: Partial<Omit<RelayClientOptions, 'WebSocket' | 'url'>> = {},
): Promise<{ relay: FakeRelay; newClient: () => RelayClient }> {
  const relay = await FakeRelay.start();
  defer(() => relay.stop());
  const newClient = () => {
    const client = createRelayClient({ url: relay.url, ...clientOptions });
    defer(() => client.close());
    return client;
  };
  return { relay, newClient };
}

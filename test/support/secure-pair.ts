// Helpers for end-to-end encrypted sessions on the local runtime: a programmable tap that records
// everything the relay handles and can play a malicious relay, and a pair of SDK clients.
import type { GatewayTap } from '../../infra/local/gateway.js';
import { fastClientOptions, Watch } from './harness.js';
import type { LocalRuntime } from '../../infra/local/runtime.js';
import type { Role, ServerMessage } from '../../shared/core/messages.js';
import { decodeBase64, encodeBase64 } from '../../shared/core/base64.js';
import {
  createRelayClient,
  establishSecureSession,
  type RelayClient,
  type RelayClientOptions,
  type SecureSession,
  type SecureSessionError,
  type SecureSessionOptions,
  type SessionEnd,
} from '../../sdk/node.js';

export interface TappedMessage {
  direction: 'from-client' | 'to-client';
  connectionId: string;
  body: string;
}

/** What a frame rewriter may answer: new bytes, null to drop, undefined to pass unchanged. */
export type FrameVerdict = Uint8Array | null | undefined;
export type FrameRewriter = (frame: Uint8Array, from: { connectionId: string; role: Role | undefined }) => FrameVerdict;

/**
 * Sees every message the relay handles. Learns each connection's role and session from the relay's
 * replies, records every body, and lets a test rewrite or drop frames coming from clients.
 */
export class RecordingTap implements GatewayTap {
  readonly messages: TappedMessage[] = [];
  readonly #roles = new Map<string, Role>();
  readonly #sessions = new Map<string, Partial<Record<Role, string>>>();
  /** Applied to every frame a client sends, before the relay routes it. */
  rewriteFrame: FrameRewriter | undefined;

  fromClient = (connectionId: string, body: string): string | null => {
    this.messages.push({ direction: 'from-client', connectionId, body });
    if (!this.rewriteFrame) return body;
    const message = parse(body) as { action?: unknown; data?: unknown } | undefined;
    if (message?.action !== 'frame' || typeof message.data !== 'string') return body;
    const verdict = this.rewriteFrame(decodeBase64(message.data), { connectionId, role: this.#roles.get(connectionId) });
    if (verdict === null) return null;
    if (verdict === undefined) return body;
    return JSON.stringify({ action: 'frame', data: encodeBase64(verdict) });
  };

  toClient = (connectionId: string, body: string): string | null => {
    this.messages.push({ direction: 'to-client', connectionId, body });
    const message = parse(body) as ServerMessage | undefined;
    if (message?.type === 'sessionCreated' || message?.type === 'sessionJoined') {
      this.#roles.set(connectionId, message.role);
      const seats = this.#sessions.get(message.sessionId) ?? {};
      seats[message.role] = connectionId;
      this.#sessions.set(message.sessionId, seats);
    }
    return body;
  };

  /** The connection of `role` in session `sessionId`. */
  connectionOf(sessionId: string, role: Role): string {
    const connectionId = this.#sessions.get(sessionId)?.[role];
    if (!connectionId) throw new Error(`the tap has not seen the ${role} of session ${sessionId}`);
    return connectionId;
  }

  /** Frames (decoded) the relay received from clients, optionally only those of a connection or format. */
  framesFromClients(filter: { connectionId?: string; format?: number } = {}): Uint8Array[] {
    return this.messages.flatMap(({ direction, connectionId, body }) => {
      if (direction !== 'from-client' || (filter.connectionId && filter.connectionId !== connectionId)) return [];
      const message = parse(body) as { action?: unknown; data?: unknown } | undefined;
      if (message?.action !== 'frame' || typeof message.data !== 'string') return [];
      const frame = decodeBase64(message.data);
      return filter.format === undefined || frame[0] === filter.format ? [frame] : [];
    });
  }
}

function parse(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Sends a message to a connection through the relay's @connections API, as a malicious relay could. */
export async function injectToClient(runtime: LocalRuntime, connectionId: string, message: ServerMessage): Promise<void> {
  const response = await fetch(`${runtime.internalUrl}/local/@connections/${encodeURIComponent(connectionId)}`, {
    method: 'POST',
    body: JSON.stringify(message),
  });
  if (!response.ok) throw new Error(`@connections POST answered ${response.status}`);
}

export const injectFrame = (runtime: LocalRuntime, connectionId: string, frame: Uint8Array) =>
  injectToClient(runtime, connectionId, { type: 'frame', data: encodeBase64(frame) });

/** Secure sessions start their stream after the handshake. */
export const secureClientOptions: Omit<RelayClientOptions, 'url' | 'WebSocket'> = { ...fastClientOptions, sessionStream: 'manual' };

export interface Observed {
  messages: string[];
  ended: SessionEnd | undefined;
}

/** Records `client`'s messages and end; `watch` (shared by a pair) wakes the test's waits on each. */
export function observe(client: RelayClient, watch = new Watch()): Observed {
  const seen: Observed = { messages: [], ended: undefined };
  client.on('message', (message) => {
    seen.messages.push(new TextDecoder().decode(message));
    watch.changed();
  });
  client.on('ended', (end) => {
    seen.ended = end;
    watch.changed();
  });
  return seen;
}

export interface Side {
  client: RelayClient;
  seen: Observed;
}

export interface Pair {
  agent: Side;
  expert: Side;
  nameplate: string;
  sessionId: string;
  /** Resolves when `condition` holds, re-checked whenever either side records a message or its end. */
  until: Watch['until'];
}

/** An agent that created a session and an expert that joined it, both with a manual session stream. */
export async function openPair(runtime: LocalRuntime, options: Partial<RelayClientOptions> = {}): Promise<Pair> {
  const watch = new Watch();
  const side = (): Side => {
    const client = createRelayClient({ url: runtime.wsUrl, ...secureClientOptions, ...options });
    return { client, seen: observe(client, watch) };
  };
  const agent = side();
  const { nameplate, sessionId } = await agent.client.createSession({ sessionTtlSeconds: 600 });
  const expert = side();
  await expert.client.joinSession(nameplate);
  return { agent, expert, nameplate, sessionId, until: watch.until.bind(watch) };
}

export type Credentials = Pick<SecureSessionOptions, 'secret' | 'invitationPassword'>;

export type Outcome = { ok: true; session: SecureSession } | { ok: false; error: SecureSessionError };

export interface SecuredPair {
  agent: Outcome;
  expert: Outcome;
}

const settle = (promise: Promise<SecureSession>): Promise<Outcome> =>
  promise.then(
    (session) => ({ ok: true, session }),
    (error: SecureSessionError) => ({ ok: false, error }),
  );

/**
 * Runs the handshake on both sides (the agent first, as an application would) and waits for both
 * outcomes. The agent created the invitation, so a failed attempt's verdict is on its error.
 */
export async function securePair(
  pair: Pair,
  credentials: { agent: Credentials; expert: Credentials },
  extra: Partial<SecureSessionOptions> = {},
  relayOrigin = 'ws://127.0.0.1',
): Promise<SecuredPair> {
  const common = { relayOrigin, nameplate: pair.nameplate, sessionId: pair.sessionId, ...extra };
  const agent = settle(establishSecureSession(pair.agent.client, { ...common, role: 'agent', ...credentials.agent }));
  const expert = settle(establishSecureSession(pair.expert.client, { ...common, role: 'expert', ...credentials.expert }));
  return { agent: await agent, expert: await expert };
}

/** The agent approves, as its user would after comparing codes: the relay lifts its pre-approval frame limit. */
export async function approvePair(pair: Pair): Promise<void> {
  await pair.agent.client.approveSession('control');
}

export const codeOf = (outcome: Outcome) => (outcome.ok ? outcome.session.verificationCode : `failed: ${outcome.error.name} ${outcome.error.code}`);

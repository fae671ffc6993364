// The way in for applications (the CLI, the web console): ask for help, offer help, join, accept.
// Each call finds the relay, opens the invitation on it and returns the session object that
// carries consent and control (assist-session.ts). Runs in browsers; sdk/node.ts supplies `ws`.
//
//   person (agent)                               expert
//   requestHelp({ kind: 'easy-connect' })  ───▶  joinHelp({ invitation: 'NNNN-SSSS-SSSS' })
//   requestHelp({ kind: 'file' })          ───▶  joinHelp({ invitation: file text or relay URL, password })
//   acceptHelp({ code })                   ◀───  offerHelp()  (helper code)

import {
  newFileSecret,
  fileSecretBytes,
  formatCode,
  formatInvitationPassword,
  INVITATION_PASSWORD_LENGTH,
  newCodeSecret,
  newInvitationPassword,
  normalizeCode,
  normalizeInvitationPassword,
  parseCode,
} from '../shared/core/codes.js';
import { createInvitationFile, INVITATION_FILE_EXTENSION, parseInvitationFile } from '../shared/core/invitation-file.js';
import { normalizeRelayUrl, parseRelayInfo, parseRelayJoinUrl, relayInfoUrl, relayJoinUrl } from '../shared/core/relay-url.js';
import type { InvitationKind } from '../shared/core/messages.js';
import { nameProblem } from './assist-messages.js';
import type { Clock } from './clock.js';
import { AgentSession, ExpertSession, type AssistSessionOptions, type AssistSnapshot, type HandshakeSecrets, type HandshakeTuning } from './assist-session.js';
import { RelayClient, type EstablishedSession, type RelayClientOptions, type SessionEnd } from './client.js';
import { RelayError, type WebSocketConstructor } from './connection.js';
import { CodedError } from '../shared/core/coded-error.js';

/** Where a relay is: its HTTPS URL (the WebSocket URL is read from `/relay.json`), its WebSocket URL, or both. */
export type RelayAddress = string | { webSocketUrl: string; httpUrl: string };

/** A relay's URLs as discovered; `httpUrl` is unknown when only the WebSocket URL was given. */
export interface DiscoveredRelay {
  webSocketUrl: string;
  httpUrl: string | undefined;
}

/** The minimal fetch the discovery needs (browsers' and Node's fetch have it). */
export type FetchLike = (url: string) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

export interface ConnectOptions {
  /** Browsers: the global WebSocket (the default). Node: sdk/node.ts passes `ws`. */
  WebSocket?: WebSocketConstructor;
  /** Default: the global fetch. */
  fetch?: FetchLike;
  /** Tuning of the RelayClient (timeouts, reconnects, stream). */
  clientOptions?: Omit<RelayClientOptions, 'url' | 'WebSocket' | 'sessionStream'>;
  handshake?: HandshakeTuning;
  /** The assistance session's timers (the idle limit, a control request's answer); tests pass a manual clock. */
  clock?: Clock;
}

export type AssistSetupErrorCode =
  /** A file invitation or relay URL without the password told separately. */
  | 'password-required'
  /** A code without a relay to look it up on. */
  | 'relay-required'
  /** A relay URL cut before its `#` secret. */
  | 'incomplete-link'
  /** A file invitation needs the relay's HTTPS URL (for the file and the link). */
  | 'http-url-required'
  /** `/relay.json` could not be fetched. */
  | 'relay-unreachable'
  /** A name the other side could not be shown safely (empty, too long, control or text-direction characters). */
  | 'invalid-name';

/** Input that cannot start a session, with a message for the user. Malformed codes, files and links throw their own typed errors. */
export class AssistSetupError extends CodedError<AssistSetupErrorCode> {
  override readonly name = 'AssistSetupError';
}

/** What people may have in hand: an invitation of some kind, or a file invitation's password alone. */
export type InvitationShape = InvitationKind | 'password';

/**
 * Something of another kind given where an invitation of `expected` kind goes: a helper code to
 * joinHelp, an Easy Connect password or a link to acceptHelp, a file's password alone. Told before
 * any seat is taken: from the text's shape here, or from the relay (`wrong-kind`) for the two kinds
 * of 12-character code, which look alike. Each client says in its own words what to do instead.
 */
export class InvitationMixUpError extends CodedError<'wrong-kind'> {
  override readonly name = 'InvitationMixUpError';

  constructor(
    readonly given: InvitationShape,
    readonly expected: InvitationKind,
  ) {
    super('wrong-kind', `${shapeNames[given]} was given where ${shapeNames[expected]} goes`);
  }
}

const shapeNames: Record<InvitationShape, string> = {
  file: 'an invitation file or link',
  'easy-connect': 'an Easy Connect password',
  'helper-code': 'a helper code',
  password: 'an invitation file’s password',
};

const isInvitationFileText = (text: string) => text.startsWith('{');
/** A relay URL, perhaps in the angle brackets mail clients add. */
export const isInvitationLink = (text: string) => /^<?https?:/i.test(text.trim());
/** Exactly as many valid symbols as a file invitation's password: not a 12-character code. */
const isInvitationPassword = (text: string) => {
  try {
    normalizeInvitationPassword(text);
    return true;
  } catch {
    return false;
  }
};

/** What typed or pasted text looks like, as far as its shape tells (a 12-character code may be either kind). */
export function invitationShape(text: string): InvitationShape | 'code' {
  const trimmed = text.trim();
  if (isInvitationFileText(trimmed) || isInvitationLink(trimmed)) return 'file';
  if (normalizeCode(trimmed).length === INVITATION_PASSWORD_LENGTH && isInvitationPassword(trimmed)) return 'password';
  return 'code';
}

/** Joins expecting `kind`; the relay's `wrong-kind` becomes the mix-up it is. */
async function joinExpecting(client: RelayClient, nameplate: string, kind: InvitationKind): Promise<EstablishedSession> {
  try {
    return await client.joinSession(nameplate, kind);
  } catch (error) {
    if (error instanceof RelayError && error.code === 'wrong-kind' && error.invitationKind) throw new InvitationMixUpError(error.invitationKind, kind);
    throw error;
  }
}

/** Finds the relay's WebSocket URL: read from `<httpUrl>/relay.json` when given an HTTPS URL. */
export async function discoverRelay(relay: RelayAddress, fetchFunction: FetchLike | undefined = globalThis.fetch): Promise<DiscoveredRelay> {
  if (typeof relay !== 'string') {
    return { webSocketUrl: normalizeRelayUrl(relay.webSocketUrl, 'websocket'), httpUrl: normalizeRelayUrl(relay.httpUrl, 'http') };
  }
  if (/^wss?:/i.test(relay.trim())) return { webSocketUrl: normalizeRelayUrl(relay.trim(), 'websocket'), httpUrl: undefined };
  const infoUrl = relayInfoUrl(relay.trim());
  let text: string;
  try {
    const response = await fetchFunction!(infoUrl);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    text = await response.text();
  } catch (error) {
    throw new AssistSetupError('relay-unreachable', `could not read ${infoUrl}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { webSocketUrl, httpUrl } = parseRelayInfo(text);
  return { webSocketUrl, httpUrl };
}

/** What the person shows or sends to the expert. */
export type Invitation = EasyConnectInvitation | FileInvitation;

export interface EasyConnectInvitation {
  kind: 'easy-connect';
  /** `NNNN-SSSS-SSSS`, read out to the expert. */
  password: string;
  expiresAt: Date;
}

export interface FileInvitation {
  kind: 'file';
  /** The `.assistinvite` file's text: send it by any means, or with emailInvitation(). */
  file: string;
  /** A name to save it under, e.g. `assist-7KQ3.assistinvite`. */
  fileName: string;
  /** `XXXX-XXXX`, told to the expert separately (by phone): never in the file or the email. */
  password: string;
  /** `https://<relay>/join/<nameplate>#<secret>`: the file's alternative; the expert still needs the password. */
  relayUrl: string;
  expiresAt: Date;
}

export interface RequestHelpOptions extends ConnectOptions {
  relay: RelayAddress;
  kind: 'file' | 'easy-connect';
  /** The person's name: shown to the expert, written into the file. */
  name: string;
  /** How long the invitation stays open (the relay caps it; default: its policy for the kind). */
  invitationTtlSeconds?: number;
  /** How long the session may last once approved (the relay caps it). */
  sessionTtlSeconds?: number;
}

/** The person's side of an invitation they created: the session, plus the invitation to hand over. */
export class HelpRequest extends AgentSession {
  readonly invitation: Invitation;
  readonly #name: string;

  constructor(options: AssistSessionOptions & { invitation: Invitation }) {
    super(options);
    this.invitation = options.invitation;
    this.#name = options.name;
  }

  /** File invitations: the relay emails the file to `to` (never the password). */
  async emailInvitation(to: string): Promise<{ to: string }> {
    if (this.invitation.kind !== 'file') throw new Error('only file invitations can be emailed');
    return this.client.emailInvitation({ to, requesterName: this.#name, invitation: this.invitation.file });
  }
}

/** The expert's side of a helper code it created. */
export class HelpOffer extends ExpertSession {
  /** `NNNN-SSSS-SSSS`, read to the person, who types it into acceptHelp. */
  readonly code: string;
  readonly expiresAt: Date;

  constructor(options: AssistSessionOptions & { code: string; expiresAt: Date }) {
    super(options);
    this.code = options.code;
    this.expiresAt = options.expiresAt;
  }
}

interface Opened {
  client: RelayClient;
  session: EstablishedSession;
  endpoints: DiscoveredRelay;
}

/** Connects and creates or joins; the client is closed again if that fails. */
async function open(options: ConnectOptions, endpoints: DiscoveredRelay, start: (client: RelayClient) => Promise<EstablishedSession>): Promise<Opened> {
  const WebSocket = options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined);
  if (!WebSocket) throw new Error('no WebSocket here: pass one (in Node, import from sdk/node.js)');
  const client = new RelayClient({ ...options.clientOptions, url: endpoints.webSocketUrl, WebSocket, sessionStream: 'manual' });
  try {
    return { client, session: await start(client), endpoints };
  } catch (error) {
    client.close();
    throw error;
  }
}

/** Checked before anything reaches the relay. */
function requireName(name: string): void {
  const problem = nameProblem(name);
  if (problem) throw new AssistSetupError('invalid-name', problem);
}

const originOf = (endpoints: DiscoveredRelay) => new URL(endpoints.webSocketUrl).origin;
const epochDate = (seconds: number) => new Date(seconds * 1000);

/**
 * The person asks for help: opens an invitation (Easy Connect password, or invitation file with
 * password and relay URL) and returns the session. Listen for 'expert', then approve or deny.
 */
export async function requestHelp(options: RequestHelpOptions): Promise<HelpRequest> {
  requireName(options.name);
  const endpoints = await discoverRelay(options.relay, options.fetch);
  if (options.kind === 'file' && !endpoints.httpUrl) {
    throw new AssistSetupError('http-url-required', 'a file invitation needs the relay’s https:// URL, not only its WebSocket URL');
  }
  const kind: InvitationKind = options.kind;
  const { client, session } = await open(options, endpoints, (relayClient) =>
    relayClient.createSession({ kind, invitationTtlSeconds: options.invitationTtlSeconds, sessionTtlSeconds: options.sessionTtlSeconds }),
  );
  const expiresAt = epochDate(session.invitationExpiresAt);
  let invitation: Invitation;
  let secrets: HandshakeSecrets;
  try {
    if (kind === 'easy-connect') {
      const secret = newCodeSecret();
      invitation = { kind, password: formatCode(session.nameplate, secret), expiresAt };
      secrets = { secret, relayOrigin: originOf(endpoints) };
    } else {
      const secret = newFileSecret();
      const password = newInvitationPassword();
      const relay = { webSocketUrl: endpoints.webSocketUrl, httpUrl: endpoints.httpUrl! };
      const file = createInvitationFile({ relay, nameplate: session.nameplate, secret, requester: options.name, createdAt: new Date(), expiresAt });
      invitation = {
        kind,
        file,
        fileName: `assist-${session.nameplate}${INVITATION_FILE_EXTENSION}`,
        password: formatInvitationPassword(password),
        relayUrl: relayJoinUrl(relay.httpUrl, session.nameplate, secret),
        expiresAt,
      };
      secrets = { secret: fileSecretBytes(secret), invitationPassword: password, relayOrigin: originOf(endpoints) };
    }
    return new HelpRequest({ client, name: options.name, secrets, handshake: options.handshake, clock: options.clock, invitation });
  } catch (error) {
    // Nothing the name check missed should get here; but an invitation nobody can use is withdrawn.
    void client.end();
    throw error;
  }
}

export interface JoinHelpOptions extends ConnectOptions {
  /** An Easy Connect password `NNNN-SSSS-SSSS`, an invitation file's text, or a relay URL `https://…/join/…#…`. */
  invitation: string;
  /** The relay (needed with a code; a file or relay URL names its own, which must match this one if given). */
  relay?: RelayAddress;
  /** The invitation password `XXXX-XXXX`, for a file or relay URL. */
  password?: string;
  /** The expert's name, shown to the person in the approval prompt. */
  name: string;
}

/** What an invitation the expert holds says: where to join and the handshake's secret and password. */
async function readInvitation(
  options: JoinHelpOptions,
): Promise<{ endpoints: DiscoveredRelay; kind: 'file' | 'easy-connect'; nameplate: string; secrets: Omit<HandshakeSecrets, 'relayOrigin'> }> {
  const text = options.invitation.trim();
  const password = () => {
    if (options.password === undefined) {
      throw new AssistSetupError('password-required', 'this invitation needs the password the person tells you separately');
    }
    return normalizeInvitationPassword(options.password);
  };
  if (isInvitationFileText(text)) {
    const relay = options.relay === undefined ? undefined : await discoverRelay(options.relay, options.fetch);
    const file = parseInvitationFile(text, { now: new Date(), relay: relay && { webSocketUrl: relay.webSocketUrl } });
    return {
      endpoints: file.relay,
      kind: 'file',
      nameplate: file.nameplate,
      secrets: { secret: fileSecretBytes(file.secret), invitationPassword: password() },
    };
  }
  if (isInvitationLink(text)) {
    const link = parseRelayJoinUrl(text);
    if (link.secret === undefined) {
      throw new AssistSetupError('incomplete-link', 'the link was cut short: it must end with # and the invitation’s secret');
    }
    const secrets = { secret: fileSecretBytes(link.secret), invitationPassword: password() };
    return { endpoints: await discoverRelay(link.httpUrl, options.fetch), kind: 'file', nameplate: link.nameplate, secrets };
  }
  if (invitationShape(text) === 'password') throw new InvitationMixUpError('password', 'easy-connect');
  const { nameplate, secret } = parseCode(text);
  if (options.relay === undefined) throw new AssistSetupError('relay-required', 'to use a code, say which relay it is for');
  return { endpoints: await discoverRelay(options.relay, options.fetch), kind: 'easy-connect', nameplate, secrets: { secret } };
}

/** The expert joins a person's invitation. Listen for 'verification' (read the code out), then 'approved' or 'denied'. */
export async function joinHelp(options: JoinHelpOptions): Promise<ExpertSession> {
  requireName(options.name);
  const { endpoints, kind, nameplate, secrets } = await readInvitation(options);
  const { client } = await open(options, endpoints, (relayClient) => joinExpecting(relayClient, nameplate, kind));
  return new ExpertSession({ client, name: options.name, secrets: { ...secrets, relayOrigin: originOf(endpoints) }, handshake: options.handshake, clock: options.clock });
}

export interface OfferHelpOptions extends ConnectOptions {
  relay: RelayAddress;
  name: string;
  invitationTtlSeconds?: number;
  sessionTtlSeconds?: number;
}

/** The expert creates a helper code to read to the person, and waits for them to type it (acceptHelp). */
export async function offerHelp(options: OfferHelpOptions): Promise<HelpOffer> {
  requireName(options.name);
  const endpoints = await discoverRelay(options.relay, options.fetch);
  const { client, session } = await open(options, endpoints, (relayClient) =>
    relayClient.createSession({ kind: 'helper-code', invitationTtlSeconds: options.invitationTtlSeconds, sessionTtlSeconds: options.sessionTtlSeconds }),
  );
  const secret = newCodeSecret();
  return new HelpOffer({
    client,
    name: options.name,
    secrets: { secret, relayOrigin: originOf(endpoints) },
    handshake: options.handshake,
    clock: options.clock,
    code: formatCode(session.nameplate, secret),
    expiresAt: epochDate(session.invitationExpiresAt),
  });
}

export interface AcceptHelpOptions extends ConnectOptions {
  relay: RelayAddress;
  /** The helper code the expert read out, as typed. */
  code: string;
  name: string;
}

/** The person types the expert's helper code. Listen for 'expert', then approve or deny, as with requestHelp. */
export async function acceptHelp(options: AcceptHelpOptions): Promise<AgentSession> {
  requireName(options.name);
  const given = invitationShape(options.code);
  if (given !== 'code') throw new InvitationMixUpError(given, 'helper-code');
  const { nameplate, secret } = parseCode(options.code);
  const endpoints = await discoverRelay(options.relay, options.fetch);
  const { client } = await open(options, endpoints, (relayClient) => joinExpecting(relayClient, nameplate, 'helper-code'));
  return new AgentSession({ client, name: options.name, secrets: { secret, relayOrigin: originOf(endpoints) }, handshake: options.handshake, clock: options.clock });
}

export interface RestoreAssistOptions {
  /** Browsers: the global WebSocket (the default). Node: sdk/node.ts passes `ws`. */
  WebSocket?: WebSocketConstructor;
  clientOptions?: Omit<RelayClientOptions, 'url' | 'WebSocket' | 'sessionStream'>;
  /** As ConnectOptions.clock. */
  clock?: Clock;
}

/** The session could not be continued from its snapshot; `end` says why (e.g. it ended meanwhile, or the relay refused the token). */
export class SessionRestoreError extends CodedError<'resume-failed'> {
  override readonly name = 'SessionRestoreError';

  constructor(readonly end: SessionEnd) {
    super('resume-failed', restoreFailure(end), { cause: end.error });
  }
}

function restoreFailure(end: SessionEnd): string {
  switch (end.reason) {
    case 'resume-rejected':
      return 'the relay no longer knows this session (it ended, or the resume grace passed)';
    case 'connection-lost':
      return 'the relay could not be reached to resume the session';
    default:
      return `the session has ended (${end.reason})`;
  }
}

/**
 * Continues an approved session from the snapshot its persistWith saved (before a reload or a
 * crash): the same keys, sequence numbers and decisions, without a new approval. Resolves once the
 * relay has taken the session back; attach listeners right away. A person's screen or desktop share
 * is not restarted: the expert is told it stopped, and the person starts a new one. Rejects with a
 * SessionRestoreError when the session cannot be continued.
 */
export async function restoreAssistSession(snapshot: AssistSnapshot, options: RestoreAssistOptions = {}): Promise<AgentSession | ExpertSession> {
  const WebSocket = options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined);
  if (!WebSocket) throw new Error('no WebSocket here: pass one (in Node, import from sdk/node.js)');
  const client = RelayClient.restore(snapshot.relay, { ...options.clientOptions, WebSocket });
  const resumed = new Promise<void>((resolve, reject) => {
    const stops = [
      client.on('reconnected', () => settle(resolve)),
      client.on('ended', (end) => settle(() => reject(new SessionRestoreError(end)))),
    ];
    const settle = (then: () => void) => {
      for (const stop of stops) stop();
      then();
    };
  });
  const session = snapshot.role === 'agent' ? new AgentSession({ client, restore: snapshot, clock: options.clock }) : new ExpertSession({ client, restore: snapshot, clock: options.clock });
  await resumed;
  return session;
}

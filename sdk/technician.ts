// A technician's side of sign-in (docs/technicians.md), for the console and `assist login` alike: the OpenID
// Connect authorization code flow with PKCE against the relay's issuer (named in its /relay.json), the ID
// token exchanged over HTTPS for a one-minute single-use ticket, and the ticket spent on a WebSocket
// connection. Browsers and Node share it: fetch and WebCrypto only.

import { sha256 } from '@noble/hashes/sha2.js';
import { encodeBase64Url } from '../shared/core/base64.js';
import { CodedError } from '../shared/core/coded-error.js';
import { parseRelayInfo, relayInfoUrl } from '../shared/core/relay-url.js';
import { TECHNICIAN_TICKET_PATH, type TechnicianIdentity, type TechnicianIssuer, type TechnicianSignInInfo } from '../shared/core/technician.js';
import { randomBytes } from '../shared/core/tokens.js';
import type { OfferableDevice } from '../shared/core/messages.js';
import { discoverRelay } from './assist.js';
import { openRequestConnection, type RelayConnection, type WebSocketConstructor } from './connection.js';

export type TechnicianSignInErrorCode =
  /** The relay names no issuer: its operator has not configured technician sign-in. */
  | 'sign-in-not-configured'
  /** The relay, or its issuer, could not be reached or answered something unexpected. */
  | 'unreachable'
  /** The issuer refused the sign-in (wrong code, the person cancelled, a state that does not match). */
  | 'sign-in-refused'
  /** The relay refused the ID token; `tokenCode` says why (token-expired, token-wrong-issuer, token-clock-skew …). */
  | 'token-refused';

export class TechnicianSignInError extends CodedError<TechnicianSignInErrorCode> {
  override readonly name = 'TechnicianSignInError';
  constructor(
    code: TechnicianSignInErrorCode,
    message: string,
    /** For token-refused: the relay's code (shared/technician/errors.ts). */
    readonly tokenCode?: string,
  ) {
    super(code, message);
  }
}

type Fetch = typeof fetch;

async function getJson(url: string, fetchImpl: Fetch, what: string): Promise<Record<string, unknown>> {
  try {
    const response = await fetchImpl(url, { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  } catch (error) {
    throw new TechnicianSignInError('unreachable', `could not read ${what} at ${url} (${(error as Error).message}); check the address and try again`);
  }
}

/** How technicians sign in at the relay at `httpUrl` (its /relay.json): the issuer, and `assist login`'s exact redirect when the issuer needs one. */
export async function relayTechnicianSignIn(httpUrl: string, fetchImpl: Fetch = fetch): Promise<TechnicianSignInInfo> {
  const url = relayInfoUrl(httpUrl);
  const info = parseRelayInfo(JSON.stringify(await getJson(url, fetchImpl, 'the relay’s description')));
  if (!info.technicianSignIn) throw new TechnicianSignInError('sign-in-not-configured', `the relay at ${httpUrl} has no technician sign-in; its operator configures an OpenID Connect issuer`);
  return info.technicianSignIn;
}

interface IssuerEndpoints {
  authorizationEndpoint: string;
  tokenEndpoint: string;
}

async function issuerEndpoints(issuer: TechnicianIssuer, fetchImpl: Fetch): Promise<IssuerEndpoints> {
  const document = await getJson(`${issuer.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, fetchImpl, 'the issuer’s discovery document');
  const { authorization_endpoint: authorizationEndpoint, token_endpoint: tokenEndpoint } = document;
  if (document.issuer !== issuer.issuer || typeof authorizationEndpoint !== 'string' || typeof tokenEndpoint !== 'string') {
    throw new TechnicianSignInError('unreachable', `${issuer.issuer} does not describe itself as that issuer with authorization and token endpoints; check the relay's issuer setting`);
  }
  return { authorizationEndpoint, tokenEndpoint };
}

/** A sign-in under way: what the client keeps until the issuer redirects back (never sent anywhere but the issuer). */
export interface PendingSignIn {
  issuer: TechnicianIssuer;
  redirectUri: string;
  state: string;
  codeVerifier: string;
  /** The nonce the ID token will carry: a key's (technicianKeyNonce) when the token is bound to one. */
  nonce: string;
  /** Where to send the technician's browser. */
  authorizationUrl: string;
}

const randomText = () => encodeBase64Url(randomBytes(32));

/**
 * Starts a sign-in: the authorization request (code flow, PKCE with S256, state, nonce) for `redirectUri`
 * (the console's page, or `assist login`'s loopback address).
 */
export async function beginTechnicianSignIn(issuer: TechnicianIssuer, redirectUri: string, options: { nonce?: string; fetch?: Fetch } = {}): Promise<PendingSignIn> {
  const { authorizationEndpoint } = await issuerEndpoints(issuer, options.fetch ?? fetch);
  const codeVerifier = randomText();
  const state = randomText();
  const nonce = options.nonce ?? randomText();
  const url = new URL(authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: issuer.clientId,
    redirect_uri: redirectUri,
    // Groups come with the token as the issuer is set up to send them (a claim of the app registration,
    // Cognito's cognito:groups, the local provider's profile scope): asking for a scope some issuers do not know would fail.
    scope: 'openid profile email',
    state,
    nonce,
    code_challenge: encodeBase64Url(sha256(new TextEncoder().encode(codeVerifier))),
    code_challenge_method: 'S256',
  }).toString();
  return { issuer, redirectUri, state, codeVerifier, nonce, authorizationUrl: url.href };
}

/** Finishes a sign-in from the redirect's query (`code` and `state`, or `error`); returns the ID token. */
export async function finishTechnicianSignIn(pending: PendingSignIn, redirectQuery: URLSearchParams, fetchImpl: Fetch = fetch): Promise<string> {
  const error = redirectQuery.get('error');
  if (error) throw new TechnicianSignInError('sign-in-refused', `the issuer refused the sign-in (${error}${redirectQuery.get('error_description') ? `: ${redirectQuery.get('error_description')}` : ''}); sign in again`);
  const code = redirectQuery.get('code');
  if (!code || redirectQuery.get('state') !== pending.state) {
    throw new TechnicianSignInError('sign-in-refused', 'the sign-in answer does not belong to the sign-in this client started (state differs); start it again');
  }
  const { tokenEndpoint } = await issuerEndpoints(pending.issuer, fetchImpl);
  let answer: Record<string, unknown>;
  try {
    const response = await fetchImpl(tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: pending.redirectUri, client_id: pending.issuer.clientId, code_verifier: pending.codeVerifier }).toString(),
    });
    answer = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new TechnicianSignInError('sign-in-refused', `the issuer would not give the tokens (${String(answer.error)}); sign in again`);
  } catch (caught) {
    if (caught instanceof TechnicianSignInError) throw caught;
    throw new TechnicianSignInError('unreachable', `could not reach the issuer's token endpoint (${(caught as Error).message}); try again`);
  }
  if (typeof answer.id_token !== 'string') throw new TechnicianSignInError('sign-in-refused', 'the issuer gave no ID token; check that the client may use the openid scope');
  return answer.id_token;
}

export interface TechnicianTicket {
  ticket: string;
  /** Epoch seconds. */
  expiresAt: number;
  technician: TechnicianIdentity;
}

/** Exchanges the ID token for a one-minute, single-use WebSocket sign-in ticket (POST, the token in a header). */
export async function requestTechnicianTicket(httpUrl: string, idToken: string, fetchImpl: Fetch = fetch): Promise<TechnicianTicket> {
  const url = `${httpUrl.replace(/\/$/, '')}${TECHNICIAN_TICKET_PATH}`;
  let response: Response;
  try {
    response = await fetchImpl(url, { method: 'POST', headers: { authorization: `Bearer ${idToken}`, accept: 'application/json' } });
  } catch (error) {
    throw new TechnicianSignInError('unreachable', `could not reach the relay at ${url} (${(error as Error).message}); try again`);
  }
  const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (response.ok) return answer as unknown as TechnicianTicket;
  if (response.status === 404 && answer.code === 'technician-sign-in-not-configured') throw new TechnicianSignInError('sign-in-not-configured', String(answer.message));
  if (response.status === 401) throw new TechnicianSignInError('token-refused', `the relay refused the sign-in: ${String(answer.message)}`, String(answer.code));
  throw new TechnicianSignInError('unreachable', `the relay answered HTTP ${response.status} for a ticket${answer.message ? ` (${String(answer.message)})` : ''}; try again`);
}

/** Spends a ticket on an open connection: from then on the relay knows which technician this connection is. */
export async function signInTechnicianConnection(connection: RelayConnection, ticket: string): Promise<TechnicianIdentity> {
  const { technician } = await connection.request({ action: 'signInTechnician', ticket });
  return technician;
}

export interface TechnicianDevicesOptions {
  /** The relay's HTTPS URL: its /relay.json names the WebSocket endpoint. */
  relay: string;
  /** The technician's ID token, exchanged here for a ticket. */
  idToken: string;
  /** Browsers: the global WebSocket (the default). Node: `ws`. */
  WebSocket?: WebSocketConstructor;
  fetch?: Fetch;
}

/**
 * The enrolled devices this technician may offer help to (docs/help-desk.md), looked up on a connection of
 * its own, with no session: signed in with a fresh ticket, asked, closed. An expired or refused ID token
 * rejects with TechnicianSignInError 'token-refused' (sign in again).
 */
export async function listTechnicianDevices(options: TechnicianDevicesOptions): Promise<OfferableDevice[]> {
  const fetchImpl = options.fetch ?? fetch;
  const endpoints = await discoverRelay(options.relay, fetchImpl);
  const { ticket } = await requestTechnicianTicket(endpoints.httpUrl ?? options.relay, options.idToken, fetchImpl);
  const connection = await openRequestConnection(options.WebSocket, endpoints.webSocketUrl, 10_000);
  try {
    await signInTechnicianConnection(connection, ticket);
    return (await connection.request({ action: 'listOfferableDevices' })).devices;
  } finally {
    connection.close();
  }
}

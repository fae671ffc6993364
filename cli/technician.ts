// `assist login`: a technician signs in with the relay's OpenID Connect issuer (docs/technicians.md) through the
// loopback flow (RFC 8252): a one-off server on 127.0.0.1 receives the issuer's redirect, the authorization
// code is exchanged with PKCE, and the ID token, bound to a fresh Ed25519 key (its nonce), is kept with that
// key in `technician.json` (0600) for the offer commands. The relay checks the token once (it mints a ticket).

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { discoverRelay, generateDeviceKeyPair, type DeviceKeyPair } from '../sdk/node.js';
import { beginTechnicianSignIn, finishTechnicianSignIn, relayTechnicianIssuer, requestTechnicianTicket, TechnicianSignInError } from '../sdk/technician.js';
import { CodedError } from '../shared/core/coded-error.js';
import type { TechnicianIdentity, TechnicianIssuer } from '../shared/core/technician.js';
import { technicianKeyNonce } from '../shared/technician/proof.js';
import { report } from './device.js';
import { errorEvent } from './frontend.js';
import { pinnedOperatorKey, pinOperatorKey } from './known-devices.js';
import { stateDirectory } from './state.js';

export const TECHNICIAN_STATE_VERSION = 1;

/** What `assist login` keeps: whoever reads it can act as the technician until the token expires. */
export interface TechnicianState extends DeviceKeyPair {
  version: typeof TECHNICIAN_STATE_VERSION;
  relay: { webSocketUrl: string; httpUrl: string };
  issuer: TechnicianIssuer;
  /** Bound to the key pair: its nonce is technicianKeyNonce(publicKey). */
  idToken: string;
  technician: TechnicianIdentity;
  /** When the ID token expires (epoch seconds): sign in again after it. */
  expiresAt: number;
}

export const technicianFile = (directory = stateDirectory()) => join(directory, 'technician.json');

export type TechnicianStateErrorCode = 'not-signed-in' | 'sign-in-expired' | 'signed-in-elsewhere' | 'unreadable-technician-state';

export class TechnicianStateError extends CodedError<TechnicianStateErrorCode> {
  override readonly name = 'TechnicianStateError';
}

/** The same relay, whichever of its addresses (https:// or wss://, any path) was given. */
function sameRelay(given: string, kept: TechnicianState['relay']): boolean {
  try {
    const host = new URL(given.trim()).host;
    return host === new URL(kept.httpUrl).host || host === new URL(kept.webSocketUrl).host;
  } catch {
    return false;
  }
}

/**
 * What `assist login` kept, for the offer commands: refused, with what to run, when nobody signed in here, the
 * sign-in has expired, or it was for another relay than `relay` (when given).
 */
export function readTechnicianState(relay: string | undefined, nowMs = Date.now(), directory = stateDirectory()): TechnicianState {
  const file = technicianFile(directory);
  const loginHint = `assist login --relay ${relay ?? 'URL'}`;
  let state: TechnicianState;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as TechnicianState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new TechnicianStateError('not-signed-in', `you are not signed in as a technician: run ${loginHint} first`);
    throw new TechnicianStateError('unreadable-technician-state', `${file} cannot be read (${(error as Error).message}); delete it and run ${loginHint}`);
  }
  if (state?.version !== TECHNICIAN_STATE_VERSION || typeof state.idToken !== 'string' || typeof state.relay?.httpUrl !== 'string') {
    throw new TechnicianStateError('unreadable-technician-state', `${file} is not a sign-in this assist understands; delete it and run ${loginHint}`);
  }
  if (relay !== undefined && !sameRelay(relay, state.relay)) {
    throw new TechnicianStateError('signed-in-elsewhere', `you are signed in at ${state.relay.httpUrl}, not at ${relay}: run ${loginHint} first (or leave out --relay)`);
  }
  if (state.expiresAt * 1000 <= nowMs) {
    const when = new Date(state.expiresAt * 1000).toLocaleString();
    throw new TechnicianStateError('sign-in-expired', `your sign-in as ${state.technician.name} expired at ${when}: run assist login --relay ${relay ?? state.relay.httpUrl} again`);
  }
  return state;
}

export interface LoginOptions {
  relay: string;
  json: boolean;
  /** The loopback port the issuer redirects to; 0 (default) a free one, for issuers that need an exact redirect URI a fixed one. */
  port: number;
  /** How long to wait for the browser (default 5 minutes). */
  timeoutMs?: number;
  /** The operator key's fingerprint, to pin for this relay (known-devices.ts) once signed in. */
  operatorKey?: string;
}

const CALLBACK_PATH = '/callback';

/** Waits for the issuer's redirect to the loopback server; answers the browser with a short page. */
function redirectQuery(server: Server, timeoutMs: number): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new TechnicianSignInError('sign-in-refused', `no sign-in came back within ${Math.round(timeoutMs / 60_000)} minutes; run assist login again`)), timeoutMs);
    server.on('request', (request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== CALLBACK_PATH) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('assist login: the sign-in is back in the terminal; you can close this tab.');
      clearTimeout(timer);
      resolve(url.searchParams);
    });
  });
}

/** Reads the token's expiry (not a verification: the relay has just verified the token by minting a ticket). */
function expiryOf(idToken: string): number {
  const payload = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
  return typeof payload.exp === 'number' ? payload.exp : 0;
}

function keepPrivately(state: TechnicianState, directory = stateDirectory()): string {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const file = technicianFile(directory);
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(partial, file);
  return file;
}

/** Which operator key this technician trusts for the relay's devices, or how to pin one. */
function operatorKeySentence(httpUrl: string): string {
  const pinned = pinnedOperatorKey(httpUrl);
  return pinned === undefined
    ? 'No operator key pinned for this relay yet: no device can be offered help until you sign in with --operator-key FINGERPRINT (ask your operator).'
    : `You offer help only to devices approved by the operator key ${pinned}.`;
}

export async function login(options: LoginOptions): Promise<number> {
  const server = createServer();
  try {
    const endpoints = await discoverRelay(options.relay);
    if (!endpoints.httpUrl) throw new TechnicianSignInError('unreachable', 'sign in through the relay’s https:// address (its /relay.json names the issuer), not its wss:// one');
    const httpUrl = endpoints.httpUrl;
    const issuer = await relayTechnicianIssuer(httpUrl);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', resolve);
    });
    const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}${CALLBACK_PATH}`;
    const keys = await generateDeviceKeyPair();
    const pending = await beginTechnicianSignIn(issuer, redirectUri, { nonce: technicianKeyNonce(keys.publicKey) });
    const answer = redirectQuery(server, options.timeoutMs ?? 5 * 60_000);
    report(options.json, { event: 'sign-in', url: pending.authorizationUrl }, `Open this address in your browser to sign in with ${issuer.issuer}:\n  ${pending.authorizationUrl}\nWaiting…`);
    const idToken = await finishTechnicianSignIn(pending, await answer);
    const { technician } = await requestTechnicianTicket(httpUrl, idToken);
    const expiresAt = expiryOf(idToken);
    if (options.operatorKey) pinOperatorKey(httpUrl, options.operatorKey);
    const file = keepPrivately({ version: TECHNICIAN_STATE_VERSION, relay: { webSocketUrl: endpoints.webSocketUrl, httpUrl }, issuer, idToken, technician, expiresAt, ...keys });
    const groups = technician.groups.length > 0 ? technician.groups.join(', ') : 'none';
    report(
      options.json,
      { event: 'signed-in', technician, expiresAt, file },
      `Signed in as ${technician.name}${technician.email ? ` <${technician.email}>` : ''} (groups: ${groups}) until ${new Date(expiresAt * 1000).toLocaleTimeString()}.\nKept in ${file} (only you can read it); sign in again after that.\n${operatorKeySentence(httpUrl)}`,
    );
    return 0;
  } catch (error) {
    const event = errorEvent(error);
    report(options.json, event, `assist: ${event.message}`, options.json ? process.stdout : process.stderr);
    return 1;
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

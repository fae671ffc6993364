// `assist login`: a technician signs in with the relay's OpenID Connect issuer (docs/technicians.md) through the
// loopback flow (RFC 8252): a one-off server on loopback (the exact redirect /relay.json names, else a free port
// of 127.0.0.1) receives the issuer's redirect, the authorization
// code is exchanged with PKCE, and the ID token, bound to a fresh Ed25519 key (its nonce), is kept with that
// key in `technician.json` (0600) for the offer commands. The relay checks the token once (it mints a ticket).

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { discoverRelay, generateDeviceKeyPair, type DeviceKeyPair } from '../sdk/node.js';
import { beginTechnicianSignIn, finishTechnicianSignIn, relayTechnicianSignIn, requestTechnicianTicket, TechnicianSignInError } from '../sdk/technician.js';
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
  /** How long to wait for the browser (default 5 minutes). */
  timeoutMs?: number;
  /** The operator key's fingerprint, to pin for this relay (known-devices.ts) once signed in. */
  operatorKey?: string;
}

export class LoopbackRedirectError extends CodedError<'redirect-port-in-use'> {
  override readonly name = 'LoopbackRedirectError';
}

/** The servers the issuer's redirect comes back to, and the redirect_uri to send for them. */
interface LoopbackRedirect {
  servers: Server[];
  redirectUri: string;
}

function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Listens where the issuer sends the browser back. With the exact redirect the relay names (an issuer such as
 * Cognito that matches it character by character), on its port and, for `localhost`, on both addresses the
 * browser may resolve it to (::1 only where this machine has IPv6); otherwise on a free port of 127.0.0.1,
 * which RFC 8252 issuers accept at any port.
 */
async function listenForRedirect(registered: string | undefined): Promise<LoopbackRedirect> {
  if (registered === undefined) {
    const server = createServer();
    await listenOn(server, 0, '127.0.0.1');
    return { servers: [server], redirectUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}${DEFAULT_CALLBACK_PATH}` };
  }
  const url = new URL(registered);
  const port = Number(url.port);
  const hosts = url.hostname === 'localhost' ? ['127.0.0.1', '::1'] : [url.hostname.replace(/^\[(.*)\]$/, '$1')];
  const servers: Server[] = [];
  try {
    for (const host of hosts) {
      const server = createServer();
      try {
        await listenOn(server, port, host);
        servers.push(server);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // A machine without IPv6 cannot be reached at ::1 either: 127.0.0.1 is enough there.
        if (host === '::1' && hosts.length > 1 && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) continue;
        if (code === 'EADDRINUSE') {
          throw new LoopbackRedirectError(
            'redirect-port-in-use',
            `port ${port} on this machine (${host}) is taken by another program, and the relay's sign-in sends the browser back only to ${registered}: close that program (another assist login?) and run assist login again`,
          );
        }
        throw error;
      }
    }
  } catch (error) {
    for (const server of servers) server.close();
    throw error;
  }
  return { servers, redirectUri: registered };
}

const DEFAULT_CALLBACK_PATH = '/callback';

/** Waits for the issuer's redirect to the loopback servers; answers the browser with a short page. */
function redirectQuery({ servers, redirectUri }: LoopbackRedirect, timeoutMs: number): Promise<URLSearchParams> {
  const callbackPath = new URL(redirectUri).pathname;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new TechnicianSignInError('sign-in-refused', `no sign-in came back within ${Math.round(timeoutMs / 60_000)} minutes; run assist login again`)), timeoutMs);
    for (const server of servers) {
      server.on('request', (request, response) => {
        const url = new URL(request.url ?? '/', redirectUri);
        if (url.pathname !== callbackPath) {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('assist login: the sign-in is back in the terminal; you can close this tab.');
        clearTimeout(timer);
        resolve(url.searchParams);
      });
    }
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
    ? 'No operator key pinned for this relay yet: no device can be offered help until you sign in with --operator-key=FINGERPRINT (ask your operator).'
    : `You offer help only to devices approved by the operator key ${pinned}.`;
}

export async function login(options: LoginOptions): Promise<number> {
  let loopback: LoopbackRedirect | undefined;
  try {
    const endpoints = await discoverRelay(options.relay);
    if (!endpoints.httpUrl) throw new TechnicianSignInError('unreachable', 'sign in through the relay’s https:// address (its /relay.json names the issuer), not its wss:// one');
    const httpUrl = endpoints.httpUrl;
    const { loopbackRedirect, ...issuer } = await relayTechnicianSignIn(httpUrl);
    loopback = await listenForRedirect(loopbackRedirect);
    const keys = await generateDeviceKeyPair();
    const pending = await beginTechnicianSignIn(issuer, loopback.redirectUri, { nonce: technicianKeyNonce(keys.publicKey) });
    const answer = redirectQuery(loopback, options.timeoutMs ?? 5 * 60_000);
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
    for (const server of loopback?.servers ?? []) {
      server.closeAllConnections();
      server.close();
    }
  }
}

import { parseTechnicianSignIn } from './technician-issuer.js';
import type { TechnicianSignInInfo } from './technician.js';
import { CodeFormatError, fileSecretBytes, fileSecretText, normalizeNameplate } from './codes.js';
import { CodedError } from './coded-error.js';
import { messageSchema } from './schemas.js';
import * as v from 'valibot';

// Relay URLs (docs/invitations.md): the link to a file invitation, `<httpUrl>/join/<nameplate>#<secret>`,
// whose secret sits in the fragment that browsers and the CLI never send, and `/relay.json`, where
// a client given only the HTTPS URL learns the WebSocket URL. Messages never repeat the link: it
// may carry a secret.

export type RelayUrlErrorCode =
  /** A relay URL that is not an absolute http(s) or ws(s) URL of the expected kind. */
  | 'invalid-url'
  /** Text that is not a relay's join link. */
  | 'not-a-join-link'
  /** A `/relay.json` answer that is not JSON or lacks a field. */
  | 'invalid-relay-info'
  /** A `/relay.json` of a version this code does not know. */
  | 'unsupported-version';

export class RelayUrlError extends CodedError<RelayUrlErrorCode> {
  override readonly name = 'RelayUrlError';
}

export type RelayUrlKind = 'http' | 'websocket';

const schemes: Record<RelayUrlKind, readonly string[]> = {
  http: ['https:', 'http:'],
  websocket: ['wss:', 'ws:'],
};

export interface RelayInfo {
  version: 1;
  webSocketUrl: string;
  httpUrl: string;
  /** Where technicians sign in, when the relay has an issuer (docs/technicians.md). */
  technicianSignIn?: TechnicianSignInInfo;
}

/**
 * Why `value` cannot be a relay's URL of this kind, or undefined if it can. A relay URL is a base:
 * it carries no credentials, query or fragment (a stage path is fine: API Gateway puts stages there).
 */
export function relayUrlProblem(value: unknown, kind: RelayUrlKind): string | undefined {
  const expected = schemes[kind].map((scheme) => `${scheme}//`).join(' or ');
  if (typeof value !== 'string') return `must be a URL starting with ${expected}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be a URL starting with ${expected}`;
  }
  if (!schemes[kind].includes(url.protocol)) return `must start with ${expected}, not ${url.protocol}`;
  if (url.username !== '' || url.password !== '') return 'must not contain a user name or password';
  if (url.search !== '' || url.hash !== '') return 'must not have a query (?) or fragment (#)';
  return undefined;
}

/** Origin and path without trailing slashes: equal for every way of writing the same base URL. */
function baseUrl(url: URL): string {
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** The canonical form of a relay URL of this kind: `https://relay.example.org/stage`, no trailing slash. */
export function normalizeRelayUrl(value: string, kind: RelayUrlKind): string {
  const problem = relayUrlProblem(value, kind);
  if (problem !== undefined) throw new RelayUrlError('invalid-url', `the relay URL ${problem}`);
  return baseUrl(new URL(value));
}

/** The link to a file invitation; the secret goes in the fragment, which never reaches a server. */
export function relayJoinUrl(httpUrl: string, nameplate: string, secret: string): string {
  const canonicalSecret = fileSecretText(fileSecretBytes(secret));
  return `${normalizeRelayUrl(httpUrl, 'http')}/join/${normalizeNameplate(nameplate)}#${canonicalSecret}`;
}

/** Where a relay says which WebSocket URL it answers on. */
export function relayInfoUrl(httpUrl: string): string {
  return `${normalizeRelayUrl(httpUrl, 'http')}/relay.json`;
}

function notAJoinLink(why: string): never {
  throw new RelayUrlError('not-a-join-link', `this is not an invitation link: ${why}`);
}

/**
 * Reads a pasted join link, tolerating surrounding whitespace and the angle brackets mail clients
 * put around links. `secret` is missing when the link was cut before `#`.
 */
export function parseRelayJoinUrl(text: string): { httpUrl: string; nameplate: string; secret?: string } {
  const unwrapped = text.trim().replace(/^<(.*)>$/s, '$1').trim();
  let url: URL;
  try {
    url = new URL(unwrapped);
  } catch {
    notAJoinLink('it should look like https://relay.example.org/join/7KQ3#…');
  }
  if (!schemes.http.includes(url.protocol)) notAJoinLink('it should start with https://');
  if (url.username !== '' || url.password !== '') notAJoinLink('it contains a user name or password');
  if (url.search !== '') notAJoinLink('it has a query (?…) that invitation links never have');
  const path = /^(.*)\/join\/([^/]*)\/?$/s.exec(url.pathname);
  if (path === null) notAJoinLink('its path should end with /join/ and the 4-character nameplate');
  const [, stagePath = '', nameplateText = ''] = path;
  const httpUrl = url.origin + stagePath.replace(/\/+$/, '');
  try {
    const nameplate = normalizeNameplate(nameplateText);
    const fragment = url.hash.replace(/^#/, '');
    if (fragment === '') return { httpUrl, nameplate };
    return { httpUrl, nameplate, secret: fileSecretText(fileSecretBytes(fragment)) };
  } catch (error) {
    if (error instanceof CodeFormatError) notAJoinLink(error.message);
    throw error;
  }
}

function invalidRelayInfo(why: string): never {
  throw new RelayUrlError('invalid-relay-info', `the relay's /relay.json ${why}`);
}

/** Checks a relay's `/relay.json` answer; the URLs come back in their canonical form (normalizeRelayUrl). */
export function parseRelayInfo(json: string): RelayInfo {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    invalidRelayInfo('is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) invalidRelayInfo('is not a JSON object');
  const fields = parsed as Record<string, unknown>;
  if (typeof fields.version !== 'number') invalidRelayInfo('has no "version" number');
  if (fields.version !== 1) {
    throw new RelayUrlError(
      'unsupported-version',
      `the relay speaks /relay.json version ${fields.version}; this program knows version 1 (update it)`,
    );
  }
  const read = v.safeParse(relayUrlsSchema(''), fields);
  if (!read.success) invalidRelayInfo(read.issues[0].message);
  const urls = read.output;
  const signIn = fields.technicianSignIn as Record<string, unknown> | undefined;
  if (signIn === undefined) return { version: 1, ...urls };
  try {
    const { issuer, clientId, groupClaim, loopbackRedirect } = signIn ?? {};
    const fields = { issuer: String(issuer), clientId: String(clientId), groupClaim: String(groupClaim), ...(loopbackRedirect !== undefined && { loopbackRedirect: String(loopbackRedirect) }) };
    return { version: 1, ...urls, technicianSignIn: parseTechnicianSignIn(fields, (key) => `"technicianSignIn.${key}"`) };
  } catch (error) {
    invalidRelayInfo(`has a wrong "technicianSignIn": ${(error as Error).message}`);
  }
}

/** A relay URL of this kind in canonical form; `field` names it in the messages. */
const relayUrl = (field: string, kind: RelayUrlKind) =>
  v.pipe(
    v.string(`"${field}" ${relayUrlProblem(undefined, kind)}`),
    v.check(
      (url) => relayUrlProblem(url, kind) === undefined,
      ({ input }) => `"${field}" ${relayUrlProblem(input, kind)}`,
    ),
    v.transform((url) => normalizeRelayUrl(url, kind)),
  );

/**
 * A relay's two URLs (in /relay.json, or an invitation file's "relay" with `prefix` 'relay.') in canonical form:
 * the URL parser drops tabs and newlines, which the raw text could carry into messages.
 */
export const relayUrlsSchema = (prefix: string) =>
  messageSchema({
    /** Where clients connect, with the API Gateway stage in the path: `wss://relay.example.org/prod`. */
    webSocketUrl: relayUrl(`${prefix}webSocketUrl`, 'websocket'),
    /** The relay's HTTPS base: join links and `/relay.json` live under it. */
    httpUrl: relayUrl(`${prefix}httpUrl`, 'http'),
  });

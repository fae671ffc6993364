// Verifies a technician's ID token against the configured issuer with `jose` (never by hand): signature from
// the issuer's published keys (discovery → jwks_uri), issuer, audience, expiry and issue time within a clock
// tolerance. The relay's ticket route and devices (end to end) both use it; no other relay function bundles it.

import { createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { TechnicianIdentity, TechnicianIssuer } from '../core/technician.js';
import { TechnicianTokenError } from './errors.js';

/** How far the verifier's clock may be from the issuer's (seconds) before a token counts as not yet issued or expired. */
export const CLOCK_TOLERANCE_SECONDS = 60;
/** An ID token older than this is refused even if its issuer gave it a longer life. */
export const MAX_ID_TOKEN_AGE_SECONDS = 12 * 60 * 60;
/** Signature algorithms the issuers we name use (Entra ID, Google, Okta, Cognito: RS256; the local provider: ES256). */
const ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

export interface VerifyOptions {
  /** Epoch milliseconds. */
  now: number;
  /** When set, the token's `nonce` must be exactly this (a token bound to a key). */
  nonce?: string;
}

const discoveryUrl = (issuer: string) => `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;

/**
 * The issuer's signing keys, found through its discovery document (whose `issuer` must be the configured
 * one). The key set is fetched on first use and refetched when a token names a key it does not know.
 */
export async function discoverIssuerKeys(issuer: string, fetchImpl: typeof fetch = fetch): Promise<JWTVerifyGetKey> {
  let document: { issuer?: unknown; jwks_uri?: unknown };
  try {
    const response = await fetchImpl(discoveryUrl(issuer), { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    document = (await response.json()) as typeof document;
  } catch (error) {
    throw new TechnicianTokenError('issuer-unreachable', `the sign-in issuer ${issuer} could not be asked for its keys (${(error as Error).message}); check the issuer URL and that it is reachable, then try again`);
  }
  if (document.issuer !== issuer || typeof document.jwks_uri !== 'string') {
    throw new TechnicianTokenError('issuer-unreachable', `${discoveryUrl(issuer)} does not describe the issuer ${issuer} (it names ${String(document.issuer)}); the configured issuer URL must be exactly the tokens' "iss"`);
  }
  return createRemoteJWKSet(new URL(document.jwks_uri));
}

function claimError(error: InstanceType<typeof errors.JWTClaimValidationFailed>, issuer: TechnicianIssuer): TechnicianTokenError {
  switch (error.claim) {
    case 'iss':
      return new TechnicianTokenError('token-wrong-issuer', `the token comes from another issuer (${String(error.payload.iss)}); sign in with ${issuer.issuer}`);
    case 'aud':
      return new TechnicianTokenError('token-wrong-audience', `the token was issued to another application, not to client ${issuer.clientId}; sign in through the relay's console or assist login`);
    case 'iat':
    case 'nbf':
      return new TechnicianTokenError(
        'token-clock-skew',
        `the token says it was issued in the future (more than ${CLOCK_TOLERANCE_SECONDS} s ahead of this clock); set this machine's clock right (or the issuer's), then sign in again`,
      );
    default:
      return new TechnicianTokenError('token-missing-claim', `the token's "${error.claim}" claim is missing or wrong; sign in again`);
  }
}

/** jose's refusal as ours: the code says what to fix. */
function asTokenError(error: unknown, issuer: TechnicianIssuer): unknown {
  if (error instanceof TechnicianTokenError) return error;
  if (error instanceof errors.JWTExpired) return new TechnicianTokenError('token-expired', 'the sign-in has expired; sign in again');
  if (error instanceof errors.JWTClaimValidationFailed) return claimError(error, issuer);
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JOSEAlgNotAllowed) {
    return new TechnicianTokenError('token-bad-signature', `the token is not signed by ${issuer.issuer}'s keys; sign in again with that issuer`);
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || (error instanceof TypeError && /fetch/i.test(error.message))) {
    return new TechnicianTokenError('issuer-unreachable', `${issuer.issuer}'s signing keys could not be fetched; try again when the issuer is reachable`);
  }
  if (error instanceof errors.JOSEError) return new TechnicianTokenError('token-malformed', 'this is not an ID token (a signed JWT); sign in again and pass the ID token');
  return error;
}

function identityOf(payload: JWTPayload, issuer: TechnicianIssuer): TechnicianIdentity {
  const text = (name: string) => (typeof payload[name] === 'string' && payload[name] !== '' ? (payload[name] as string) : undefined);
  const subject = text('sub');
  if (!subject) throw new TechnicianTokenError('token-missing-claim', 'the token names no subject ("sub"); it is not an ID token');
  const groupClaim = payload[issuer.groupClaim];
  if (groupClaim !== undefined && !(Array.isArray(groupClaim) && groupClaim.every((group) => typeof group === 'string'))) {
    throw new TechnicianTokenError('token-missing-claim', `the token's "${issuer.groupClaim}" claim is not a list of group names; check the issuer's group claim setting`);
  }
  const email = text('email');
  return {
    issuer: issuer.issuer,
    subject,
    name: text('name') ?? text('preferred_username') ?? email ?? subject,
    ...(email && { email }),
    groups: (groupClaim as string[] | undefined) ?? [],
  };
}

/** The identity an ID token of `issuer` proves, or a TechnicianTokenError saying why not. */
export async function verifyIdToken(issuer: TechnicianIssuer, idToken: string, keys: JWTVerifyGetKey, options: VerifyOptions): Promise<TechnicianIdentity> {
  try {
    // Refused either way, but a token of another issuer would fail on its signature first: say what is wrong.
    const claimedIssuer = decodeJwt(idToken).iss;
    if (claimedIssuer !== issuer.issuer) throw claimError(new errors.JWTClaimValidationFailed('unexpected "iss" claim value', { iss: claimedIssuer }, 'iss'), issuer);
    const { payload } = await jwtVerify(idToken, keys, {
      issuer: issuer.issuer,
      audience: issuer.clientId,
      algorithms: ALGORITHMS,
      currentDate: new Date(options.now),
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      maxTokenAge: MAX_ID_TOKEN_AGE_SECONDS,
      requiredClaims: ['exp', 'sub'],
    });
    if (options.nonce !== undefined && payload.nonce !== options.nonce) {
      throw new TechnicianTokenError('token-key-mismatch', 'the ID token is not bound to this key (its nonce differs); sign in again from the client that holds the key');
    }
    return identityOf(payload, issuer);
  } catch (error) {
    throw asTokenError(error, issuer);
  }
}

const keysByIssuer = new Map<string, Promise<JWTVerifyGetKey>>();

/** discoverIssuerKeys once per issuer for this process (a Lambda container); a failed discovery is tried again next time. */
export function cachedIssuerKeys(issuer: string): Promise<JWTVerifyGetKey> {
  let keys = keysByIssuer.get(issuer);
  if (!keys) {
    keys = discoverIssuerKeys(issuer);
    keysByIssuer.set(issuer, keys);
    keys.catch(() => keysByIssuer.delete(issuer));
  }
  return keys;
}

// The technician's half of end-to-end authentication (docs/technicians.md, "Bound to a key"): the ID token is
// bound to the technician's Ed25519 key through its `nonce` (asked for at sign-in), and the key signs what the
// session binds (the offer: its device, code and reason). A device verifies both against the issuer it pinned,
// so a relay can neither forge a technician nor move a technician's proof onto another offer.

import { sha256 } from '@noble/hashes/sha2.js';
import type { JWTVerifyGetKey } from 'jose';
import { decodeBase64Url, encodeBase64Url } from '../core/base64.js';
import type { TechnicianIdentity, TechnicianIssuer, TechnicianProof } from '../core/technician.js';
import { TechnicianTokenError } from './errors.js';
import { verifyIdToken } from './id-token.js';

const utf8 = (text: string) => new TextEncoder().encode(text);
const concat = (...parts: Uint8Array[]) => {
  const joined = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
};

/** The nonce an ID token bound to this key carries: base64url(SHA-256("assist-relay technician key v1\n" ‖ raw public key)). */
export function technicianKeyNonce(publicKey: string): string {
  return encodeBase64Url(sha256(concat(utf8('assist-relay technician key v1\n'), decodeBase64Url(publicKey))));
}

/** What the key signs: a fixed prefix, so the signature means nothing in any other protocol, then the bound bytes. */
export function technicianBindingMessage(bound: Uint8Array): Uint8Array<ArrayBuffer> {
  return concat(utf8('assist-relay technician binding v1\n'), bound) as Uint8Array<ArrayBuffer>;
}

/** The technician's signature (base64url) over `bound`, with its Ed25519 private key (PKCS #8, base64url). */
export async function signTechnicianBinding(privateKey: string, bound: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey('pkcs8', new Uint8Array(decodeBase64Url(privateKey)), { name: 'Ed25519' }, false, ['sign']);
  return encodeBase64Url(new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key, technicianBindingMessage(bound))));
}

async function signatureHolds(proof: TechnicianProof, bound: Uint8Array): Promise<boolean> {
  try {
    const key = await crypto.subtle.importKey('raw', new Uint8Array(decodeBase64Url(proof.publicKey)), { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, new Uint8Array(decodeBase64Url(proof.signature)), technicianBindingMessage(bound));
  } catch {
    return false;
  }
}

/**
 * Who the proof says is asking, verified end to end: the ID token against `issuer` (signature, iss, aud,
 * expiry, clock tolerance) and bound to the proof's key by its nonce, and the key's signature over `bound`.
 * Throws TechnicianTokenError (token-key-mismatch when the token or the signature is not this key's).
 */
export async function verifyTechnicianProof(issuer: TechnicianIssuer, proof: TechnicianProof, bound: Uint8Array, keys: JWTVerifyGetKey, now: number): Promise<TechnicianIdentity> {
  const technician = await verifyIdToken(issuer, proof.idToken, keys, { now, nonce: technicianKeyNonce(proof.publicKey) });
  if (!(await signatureHolds(proof, bound))) {
    throw new TechnicianTokenError('token-key-mismatch', 'the technician’s signature does not match what is offered or the key their sign-in is bound to; refuse the offer, and let the technician sign in again');
  }
  return technician;
}

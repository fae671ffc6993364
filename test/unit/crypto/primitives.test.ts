// Known-answer tests for the primitives under the key schedule and the record layer.
// AES-256-GCM: test cases 14, 15 and 16 of McGrew & Viega, "The Galois/Counter Mode of Operation
// (GCM)" (revised 2005, appendix B), the vectors NIST SP 800-38D validation builds on.
// HKDF-SHA512: RFC 5869 test cases 1 and 3 recomputed with SHA-512 (published by Kullo,
// "HKDF SHA-512 test vectors", and reproduced by many HKDF libraries).

import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { aesGcmOpen, aesGcmSeal, importAesGcmKey } from '../../../shared/crypto/aes-gcm.js';
import { caughtAsync } from './helpers.js';

const gcmKey = 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308';
const gcmNonce = 'cafebabefacedbaddecaf888';
const gcmPlaintext =
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
  '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255';
const gcmCiphertext =
  '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
  '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad';

const gcmCases = [
  {
    name: 'test case 14 (zero key and nonce, one block)',
    key: '00'.repeat(32), nonce: '00'.repeat(12), aad: '', plaintext: '00'.repeat(16),
    sealed: 'cea7403d4d606b6e074ec5d3baf39d18' + 'd0d1c8a799996bf0265b98b5d48ab919',
  },
  {
    name: 'test case 15 (four blocks, no AAD)',
    key: gcmKey, nonce: gcmNonce, aad: '', plaintext: gcmPlaintext,
    sealed: gcmCiphertext + 'b094dac5d93471bdec1a502270e3cc6c',
  },
  {
    name: 'test case 16 (60 bytes with AAD)',
    key: gcmKey, nonce: gcmNonce, aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2', plaintext: gcmPlaintext.slice(0, 120),
    sealed: gcmCiphertext.slice(0, 120) + '76fc6ece0f4e1768cddf8853bb2d551b',
  },
];

describe('AES-256-GCM through the WebCrypto wrapper', () => {
  for (const vector of gcmCases) {
    it(`seals and opens GCM ${vector.name}`, async () => {
      const key = await importAesGcmKey(hexToBytes(vector.key));
      const [nonce, aad, plaintext] = [vector.nonce, vector.aad, vector.plaintext].map(hexToBytes) as [Uint8Array, Uint8Array, Uint8Array];
      expect(bytesToHex(await aesGcmSeal(key, nonce, aad, plaintext))).toBe(vector.sealed);
      expect(bytesToHex(await aesGcmOpen(key, nonce, aad, hexToBytes(vector.sealed)))).toBe(vector.plaintext);
    });
  }

  it('rejects the vector with one AAD bit changed', async () => {
    const vector = gcmCases[2]!;
    const key = await importAesGcmKey(hexToBytes(vector.key));
    const aad = hexToBytes(vector.aad);
    aad[0]! ^= 1;
    const error = await caughtAsync(() => aesGcmOpen(key, hexToBytes(vector.nonce), aad, hexToBytes(vector.sealed)));
    expect(error).toBeInstanceOf(Error);
  });

  it('accepts only 32-byte keys', () => {
    expect(() => importAesGcmKey(new Uint8Array(16))).toThrow(RangeError);
  });
});

describe('HKDF-SHA512', () => {
  it('RFC 5869 test case 1 with SHA-512', () => {
    const prk = extract(sha512, hexToBytes('0b'.repeat(22)), hexToBytes('000102030405060708090a0b0c'));
    expect(bytesToHex(prk)).toBe(
      '665799823737ded04a88e47e54a5890bb2c3d247c7a4254a8e61350723590a26' +
        'c36238127d8661b88cf80ef802d57e2f7cebcf1e00e083848be19929c61b4237',
    );
    expect(bytesToHex(expand(sha512, prk, hexToBytes('f0f1f2f3f4f5f6f7f8f9'), 42))).toBe(
      '832390086cda71fb47625bb5ceb168e4c8e26a1a16ed34d9fc7fe92c1481579338da362cb8d9f925d7cb',
    );
  });

  it('RFC 5869 test case 3 with SHA-512 (empty salt and info)', () => {
    const prk = extract(sha512, hexToBytes('0b'.repeat(22)), new Uint8Array(0));
    expect(bytesToHex(expand(sha512, prk, new Uint8Array(0), 42))).toBe(
      'f5fa02b18298a72a8c23898a8703472c6eb179dc204c03425c970e3b164bf90fff22d04836d0e2343bac',
    );
  });
});

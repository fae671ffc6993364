// CPace against the published test vectors of draft-irtf-cfrg-cpace-21: appendix "CPace function
// definitions" (prepend_len, lv_cat, transcript_ir) and appendix "Test vector for CPace using group
// ristretto255 and hash SHA-512" (generator, Ya, Yb, K, ISK_IR, scalar_mult and invalid points).
// Source: https://github.com/cfrg/draft-irtf-cfrg-cpace, tag draft-irtf-cfrg-cpace-21.

import { bytesToNumberLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { ristretto255 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import {
  CPACE_IDENTITY,
  CpaceParty,
  calculateGenerator,
  generatorString,
  lvCat,
  prependLen,
  sampleScalar,
  scalarMult,
  scalarMultVfy,
  transcriptIr,
} from '../../../shared/crypto/cpace.js';
import { caught, expectHandshakeError } from './helpers.js';

const range = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);

describe('string utilities (draft appendix vectors)', () => {
  it('prepend_len', () => {
    expect(bytesToHex(prependLen(new Uint8Array(0)))).toBe('00');
    expect(bytesToHex(prependLen(utf8ToBytes('1234')))).toBe('0431323334');
    expect(bytesToHex(prependLen(range(127)))).toBe('7f' + bytesToHex(range(127)));
    expect(bytesToHex(prependLen(range(128)))).toBe('8001' + bytesToHex(range(128)));
  });

  it('prepend_len uses LEB128 beyond two bytes', () => {
    expect(bytesToHex(prependLen(new Uint8Array(16384)).subarray(0, 3))).toBe('808001');
  });

  it('lv_cat', () => {
    const encoded = lvCat(utf8ToBytes('1234'), utf8ToBytes('5'), new Uint8Array(0), utf8ToBytes('678'));
    expect(bytesToHex(encoded)).toBe('043132333401350003363738');
  });

  it('transcript_ir', () => {
    const [a, b, c, d] = ['123', 'PartyA', '234', 'PartyB'].map(utf8ToBytes) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    expect(bytesToHex(transcriptIr(a, b, c, d))).toBe('03313233065061727479410332333406506172747942');
    const [e, f, g, h] = ['3456', 'PartyA', '2345', 'PartyB'].map(utf8ToBytes) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    expect(bytesToHex(transcriptIr(e, f, g, h))).toBe('043334353606506172747941043233343506506172747942');
  });
});

describe('CPACE-RISTR255-SHA512 test vectors', () => {
  const prs = utf8ToBytes('Password');
  const ci = hexToBytes('0b415f696e69746961746f720b425f726573706f6e646572');
  const sid = hexToBytes('7e4b4791d6a8ef019b936c79fb7f2c57');
  const ada = utf8ToBytes('ADa');
  const adb = utf8ToBytes('ADb');
  const ya = bytesToNumberLE(hexToBytes('da3d23700a9e5699258aef94dc060dfda5ebb61f02a5ea77fad53f4ff0976d08'));
  const yb = bytesToNumberLE(hexToBytes('d2316b454718c35362d83d69df6320f38578ed5984651435e2949762d900b80d'));
  const expectedYa = 'd6bac480f2c386c394efc7c47adb9925dcd2630b64f240c50f8d0eec482b9157';
  const expectedYb = '3ea7e0b19560d7c0b0f5734f63b955286dfa8232b5ebe63324e2d9e7433f7258';
  const expectedK = '80b69a8a76457ab6a4d7f887a4bf6b55a2f80ac19c333f917a05fc9887c8b40f';
  const expectedIskIr =
    'b69effbf61b51d56401c0f65601abe428de8206feaaf0e32198896dcae7b35cd' +
    '2b38950a39dfd5d4a79164614c2984f7daa460b588c1e80c3fa2068af7900447';

  it('generator_string, its hash and the encoded generator', () => {
    const generatorStringHex =
      '11435061636552697374726574746f3235350850617373776f726464' +
      '00'.repeat(100) +
      '180b415f696e69746961746f720b425f726573706f6e646572107e4b4791d6a8ef019b936c79fb7f2c57';
    const encoded = generatorString(prs, ci, sid);
    expect(encoded.length).toBe(170);
    expect(bytesToHex(encoded)).toBe(generatorStringHex);
    expect(bytesToHex(sha512(encoded))).toBe(
      'da6d3ddc8802fca9058755ffd3ebde08a9c2c74945901a258482a288b6663af0' +
        '6bf645c93cd1c51512307199c80e84908916d983b34af77205f90851a657ee27',
    );
    expect(bytesToHex(calculateGenerator(prs, ci, sid).toBytes())).toBe(
      '222b6b195fe84b1652badb6f6a3ae3d24341e7306967f0b8115b40d5698c7e56',
    );
  });

  it('messages Ya and Yb from the given scalars', () => {
    const generator = calculateGenerator(prs, ci, sid);
    expect(bytesToHex(scalarMult(ya, generator))).toBe(expectedYa);
    expect(bytesToHex(scalarMult(yb, generator))).toBe(expectedYb);
  });

  it('secret point K from both sides', () => {
    expect(bytesToHex(scalarMultVfy(ya, hexToBytes(expectedYb)))).toBe(expectedK);
    expect(bytesToHex(scalarMultVfy(yb, hexToBytes(expectedYa)))).toBe(expectedK);
  });

  it('ISK_IR from the initiator and from the responder', () => {
    const initiator = new CpaceParty({ role: 'initiator', prs, ci, sid, ad: ada }, ya);
    const responder = new CpaceParty({ role: 'responder', prs, ci, sid, ad: adb }, yb);
    expect(bytesToHex(initiator.share)).toBe(expectedYa);
    expect(bytesToHex(responder.share)).toBe(expectedYb);
    expect(bytesToHex(initiator.deriveIsk(responder.share, adb))).toBe(expectedIskIr);
    expect(bytesToHex(responder.deriveIsk(initiator.share, ada))).toBe(expectedIskIr);
  });

  it('scalar_mult with valid inputs', () => {
    const s = bytesToNumberLE(hexToBytes('7cd0e075fa7955ba52c02759a6c90dbbfc10e6d40aea8d283e407d88cf538a05'));
    const x = hexToBytes('2c3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c');
    const expected = '7c13645fe790a468f62c39beb7388e541d8405d1ade69d1778c5fe3e7f6b600e';
    expect(bytesToHex(scalarMult(s, ristretto255.Point.fromBytes(x)))).toBe(expected);
    expect(bytesToHex(scalarMultVfy(s, x))).toBe(expected);
  });

  describe('invalid inputs for scalar_mult_vfy', () => {
    const s = bytesToNumberLE(hexToBytes('7cd0e075fa7955ba52c02759a6c90dbbfc10e6d40aea8d283e407d88cf538a05'));
    const invalidPoints = {
      'Y_i1 (not a valid encoding)': hexToBytes('2b3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c'),
      'Y_i2 (the identity G.I)': new Uint8Array(32),
    };

    for (const [name, point] of Object.entries(invalidPoints)) {
      it(`${name} maps to G.I`, () => {
        expect(scalarMultVfy(s, point)).toEqual(CPACE_IDENTITY);
      });

      it(`${name} in the peer's message aborts ISK derivation`, () => {
        for (const role of ['initiator', 'responder'] as const) {
          const party = new CpaceParty({ role, prs, ci, sid }, s);
          expectHandshakeError(caught(() => party.deriveIsk(point)), 'invalid-point');
        }
      });
    }
  });
});

describe('CPace properties with sampled scalars', () => {
  const ci = utf8ToBytes('ci');
  const sid = utf8ToBytes('sid');

  it('samples scalars below 2^252 and never zero', () => {
    for (let i = 0; i < 64; i++) {
      const scalar = sampleScalar();
      expect(scalar > 0n && scalar < 1n << 252n).toBe(true);
    }
  });

  it('agrees on ISK with the same password and differs with another', () => {
    const run = (initiatorPassword: string, responderPassword: string) => {
      const initiator = new CpaceParty({ role: 'initiator', prs: utf8ToBytes(initiatorPassword), ci, sid });
      const responder = new CpaceParty({ role: 'responder', prs: utf8ToBytes(responderPassword), ci, sid });
      return [initiator.deriveIsk(responder.share), responder.deriveIsk(initiator.share)] as const;
    };
    const [same1, same2] = run('correct horse', 'correct horse');
    expect(same1).toEqual(same2);
    const [different1, different2] = run('correct horse', 'battery staple');
    expect(different1).not.toEqual(different2);
  });

  it('refuses to derive twice from one scalar', () => {
    const party = new CpaceParty({ role: 'initiator', prs: utf8ToBytes('pw'), ci, sid });
    const peer = new CpaceParty({ role: 'responder', prs: utf8ToBytes('pw'), ci, sid });
    party.deriveIsk(peer.share);
    expectHandshakeError(caught(() => party.deriveIsk(peer.share)), 'wrong-state');
  });
});

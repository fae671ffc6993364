// The technician's ID token bound to its key (nonce), and the key's signature over what an offer binds: a
// device accepts the proof only for that key, that token and those bytes.
import { beforeAll, describe, expect, it } from 'vitest';
import { signTechnicianBinding, technicianKeyNonce, verifyTechnicianProof } from '../../../shared/technician/proof.js';
import { generateDeviceKeyPair as generateKeyPair } from '../../../sdk/device.js';
import { createTestIssuer, TEST_ISSUER, type TestIssuer } from '../../support/test-issuer.js';

const NOW = Date.UTC(2030, 0, 1);
const bound = new TextEncoder().encode('assist-relay help offer v1\ndevice-1\nAB12\nsealed\nticket 4711');
let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

async function proofFor(nonceKey?: string) {
  const keys = await generateKeyPair();
  const idToken = await issuer.idToken(NOW, { nonce: technicianKeyNonce(nonceKey ?? keys.publicKey) });
  return { keys, proof: { idToken, publicKey: keys.publicKey, signature: await signTechnicianBinding(keys.privateKey, bound) } };
}

describe('verifyTechnicianProof', () => {
  it('proves the technician when the token is bound to the key that signed these bytes', async () => {
    const { proof } = await proofFor();
    expect(await verifyTechnicianProof(TEST_ISSUER, proof, bound, issuer.keys, NOW)).toMatchObject({ subject: 'ada', groups: ['Help desk'] });
  });

  it('refuses other bytes, another key’s token, another signature, and an expired token', async () => {
    const mismatch = expect.objectContaining({ code: 'token-key-mismatch' });
    const { proof } = await proofFor();
    await expect(verifyTechnicianProof(TEST_ISSUER, proof, new TextEncoder().encode('another offer'), issuer.keys, NOW)).rejects.toEqual(mismatch);
    const other = await generateKeyPair();
    const stolen = await proofFor(other.publicKey);
    await expect(verifyTechnicianProof(TEST_ISSUER, stolen.proof, bound, issuer.keys, NOW)).rejects.toEqual(mismatch);
    // A relay that swaps in its own key keeps the token's nonce pointing at the technician's key.
    await expect(verifyTechnicianProof(TEST_ISSUER, { ...proof, publicKey: other.publicKey, signature: await signTechnicianBinding(other.privateKey, bound) }, bound, issuer.keys, NOW)).rejects.toEqual(mismatch);
    await expect(verifyTechnicianProof(TEST_ISSUER, { ...proof, signature: 'A'.repeat(86) }, bound, issuer.keys, NOW)).rejects.toEqual(mismatch);
    await expect(verifyTechnicianProof(TEST_ISSUER, proof, bound, issuer.keys, NOW + 2 * 3600_000)).rejects.toEqual(expect.objectContaining({ code: 'token-expired' }));
  });
});

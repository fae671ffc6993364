// ID token verification with jose: what a token proves, and each way a token is refused, with the code that says what to fix.
import { generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLOCK_TOLERANCE_SECONDS, discoverIssuerKeys, verifyIdToken } from '../../../shared/technician/id-token.js';
import { TechnicianTokenError } from '../../../shared/technician/errors.js';
import { createTestIssuer, TEST_ISSUER, type TestIssuer } from '../../support/test-issuer.js';

const NOW = Date.UTC(2030, 0, 1);
let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

const verify = (token: string, now = NOW, nonce?: string) => verifyIdToken(TEST_ISSUER, token, issuer.keys, { now, ...(nonce !== undefined && { nonce }) });
const refusedWith = (code: string) => expect.objectContaining({ name: 'TechnicianTokenError', code });

describe('verifyIdToken', () => {
  it('proves the issuer, subject, name, e-mail and groups', async () => {
    expect(await verify(await issuer.idToken(NOW))).toEqual({
      issuer: TEST_ISSUER.issuer,
      subject: 'ada',
      name: 'Ada Lovelace',
      email: 'ada@example.org',
      groups: ['Help desk'],
    });
  });

  it('reads groups from the configured claim, and names a technician by what the token has', async () => {
    const cognito = { ...TEST_ISSUER, groupClaim: 'cognito:groups' };
    const token = await issuer.idToken(NOW, { name: undefined, email: undefined, preferred_username: 'grace', 'cognito:groups': ['Tier 2'], groups: undefined });
    expect(await verifyIdToken(cognito, token, issuer.keys, { now: NOW })).toEqual({ issuer: TEST_ISSUER.issuer, subject: 'ada', name: 'grace', groups: ['Tier 2'] });
    expect(await verify(await issuer.idToken(NOW, { groups: undefined }))).toMatchObject({ groups: [] });
  });

  it('refuses an expired token, and one issued in the future beyond the clock tolerance', async () => {
    const token = await issuer.idToken(NOW);
    await expect(verify(token, NOW + 3600_000 + (CLOCK_TOLERANCE_SECONDS + 1) * 1000)).rejects.toEqual(refusedWith('token-expired'));
    // Within the tolerance both ways: accepted.
    await expect(verify(token, NOW + 3600_000 + (CLOCK_TOLERANCE_SECONDS - 1) * 1000)).resolves.toMatchObject({ subject: 'ada' });
    await expect(verify(token, NOW - (CLOCK_TOLERANCE_SECONDS - 1) * 1000)).resolves.toMatchObject({ subject: 'ada' });
    await expect(verify(token, NOW - (CLOCK_TOLERANCE_SECONDS + 1) * 1000)).rejects.toEqual(refusedWith('token-clock-skew'));
  });

  it('refuses a token of another issuer, or for another application', async () => {
    await expect(verify(await issuer.idToken(NOW, {}, { ...TEST_ISSUER, issuer: 'https://evil.example.net' }))).rejects.toEqual(refusedWith('token-wrong-issuer'));
    await expect(verify(await issuer.idToken(NOW, {}, { ...TEST_ISSUER, clientId: 'another-app' }))).rejects.toEqual(refusedWith('token-wrong-audience'));
  });

  it('refuses a token signed by another key, a tampered one, and text that is no token', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ sub: 'ada', exp: NOW / 1000 + 60, iat: NOW / 1000 })
      .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
      .setIssuer(TEST_ISSUER.issuer)
      .setAudience(TEST_ISSUER.clientId)
      .sign(privateKey);
    await expect(verify(forged)).rejects.toEqual(refusedWith('token-bad-signature'));
    const [header, , signature] = (await issuer.idToken(NOW)).split('.');
    const otherPayload = Buffer.from(JSON.stringify({ sub: 'mallory', iss: TEST_ISSUER.issuer, aud: TEST_ISSUER.clientId, iat: NOW / 1000, exp: NOW / 1000 + 60 })).toString('base64url');
    await expect(verify(`${header}.${otherPayload}.${signature}`)).rejects.toEqual(refusedWith('token-bad-signature'));
    await expect(verify('not-a-token')).rejects.toEqual(refusedWith('token-malformed'));
  });

  it('refuses a group claim that is not a list of names', async () => {
    await expect(verify(await issuer.idToken(NOW, { groups: 'Help desk' }))).rejects.toEqual(refusedWith('token-missing-claim'));
  });

  it('holds a token to the nonce it must carry', async () => {
    const token = await issuer.idToken(NOW, { nonce: 'bound-to-key-1' });
    await expect(verify(token, NOW, 'bound-to-key-1')).resolves.toMatchObject({ subject: 'ada' });
    await expect(verify(token, NOW, 'bound-to-key-2')).rejects.toEqual(refusedWith('token-key-mismatch'));
  });
});

describe('discoverIssuerKeys', () => {
  it('refuses a discovery document that names another issuer, and an issuer it cannot reach', async () => {
    const answering = (body: unknown) => (async () => new Response(JSON.stringify(body))) as typeof fetch;
    await expect(discoverIssuerKeys(TEST_ISSUER.issuer, answering({ issuer: 'https://other.example.org', jwks_uri: 'https://other.example.org/jwks' }))).rejects.toEqual(
      refusedWith('issuer-unreachable'),
    );
    const failing = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    const refusal = await discoverIssuerKeys(TEST_ISSUER.issuer, failing).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(TechnicianTokenError);
    expect((refusal as Error).message).toContain(TEST_ISSUER.issuer);
  });
});

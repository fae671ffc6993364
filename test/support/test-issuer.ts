// An OpenID Connect issuer's signing side in memory, for unit tests: ID tokens signed with jose and the key set that
// verifies them. Integration tests use the real local provider (infra/local/oidc-provider.ts) instead.
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { TechnicianIssuer } from '../../shared/core/technician.js';

export const TEST_ISSUER: TechnicianIssuer = { issuer: 'https://login.example.org/tenant', clientId: 'assist-relay', groupClaim: 'groups' };

export interface TestIssuer {
  keys: JWTVerifyGetKey;
  /** An ID token for `claims` (sub, name, groups …), issued at `nowMs` for an hour unless claims say otherwise. */
  idToken(nowMs: number, claims?: JWTPayload, issuer?: TechnicianIssuer): Promise<string>;
}

export async function createTestIssuer(): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'ES256' };
  return {
    keys: createLocalJWKSet({ keys: [jwk] }),
    idToken: (nowMs, claims = {}, issuer = TEST_ISSUER) => {
      const now = Math.floor(nowMs / 1000);
      return new SignJWT({ sub: 'ada', name: 'Ada Lovelace', email: 'ada@example.org', groups: ['Help desk'], iat: now, exp: now + 3600, ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
        .setIssuer(issuer.issuer)
        .setAudience(issuer.clientId)
        .sign(privateKey);
    },
  };
}

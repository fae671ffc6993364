// The OpenID Connect issuer technicians sign in with, as the functions read it (docs/technicians.md): CDK context
// (oidcIssuer, oidcClientId, oidcGroupClaim) sets these environment variables.

import { DEFAULT_GROUP_CLAIM, parseTechnicianIssuer } from '../../core/technician-issuer.js';
import type { TechnicianIssuer } from '../../core/technician.js';

export const technicianIssuerEnvironmentNames = {
  issuer: 'ASSIST_OIDC_ISSUER',
  clientId: 'ASSIST_OIDC_CLIENT_ID',
  groupClaim: 'ASSIST_OIDC_GROUP_CLAIM',
} as const satisfies Record<keyof TechnicianIssuer, string>;

/** The issuer the stack configured, or undefined when none is (technician sign-in is then refused). */
export function technicianIssuerFromEnvironment(env: Record<string, string | undefined> = process.env): TechnicianIssuer | undefined {
  const issuer = env[technicianIssuerEnvironmentNames.issuer];
  if (!issuer) return undefined;
  return parseTechnicianIssuer(
    issuer,
    env[technicianIssuerEnvironmentNames.clientId] ?? '',
    env[technicianIssuerEnvironmentNames.groupClaim] || DEFAULT_GROUP_CLAIM,
    (key) => technicianIssuerEnvironmentNames[key],
  );
}

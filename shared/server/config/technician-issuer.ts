// The OpenID Connect issuer technicians sign in with, as the functions read it (docs/technicians.md): CDK context
// (oidcIssuer, oidcClientId, oidcGroupClaim, oidcLoopbackRedirect; or the Cognito pool the stack creates) sets these
// environment variables.

import { parseTechnicianSignIn } from '../../core/technician-issuer.js';
import type { TechnicianSignInInfo } from '../../core/technician.js';

export const technicianIssuerEnvironmentNames = {
  issuer: 'ASSIST_OIDC_ISSUER',
  clientId: 'ASSIST_OIDC_CLIENT_ID',
  groupClaim: 'ASSIST_OIDC_GROUP_CLAIM',
  loopbackRedirect: 'ASSIST_OIDC_LOOPBACK_REDIRECT',
} as const satisfies Record<keyof TechnicianSignInInfo, string>;

/** The issuer the stack configured, or undefined when none is (technician sign-in is then refused). */
export function technicianIssuerFromEnvironment(env: Record<string, string | undefined> = process.env): TechnicianSignInInfo | undefined {
  const issuer = env[technicianIssuerEnvironmentNames.issuer];
  if (!issuer) return undefined;
  return parseTechnicianSignIn(
    {
      issuer,
      clientId: env[technicianIssuerEnvironmentNames.clientId] ?? '',
      groupClaim: env[technicianIssuerEnvironmentNames.groupClaim] || undefined,
      loopbackRedirect: env[technicianIssuerEnvironmentNames.loopbackRedirect] || undefined,
    },
    (key) => technicianIssuerEnvironmentNames[key],
  );
}

/** The environment variables that tell the functions `signIn` (the stack sets them; technicianIssuerFromEnvironment reads them). */
export function technicianIssuerEnvironment(signIn: TechnicianSignInInfo): Record<string, string> {
  return Object.fromEntries(Object.entries(signIn).map(([key, value]) => [technicianIssuerEnvironmentNames[key as keyof TechnicianSignInInfo], value]));
}

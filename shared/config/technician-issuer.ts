// The OpenID Connect issuer technicians sign in with (docs/technicians.md): CDK context on AWS
// (oidcIssuer, oidcClientId, oidcGroupClaim → these environment variables), the local provider with `npm start`.

import type { TechnicianIssuer } from '../protocol/technician.js';

export const technicianIssuerEnvironmentNames = {
  issuer: 'ASSIST_OIDC_ISSUER',
  clientId: 'ASSIST_OIDC_CLIENT_ID',
  groupClaim: 'ASSIST_OIDC_GROUP_CLAIM',
} as const satisfies Record<keyof TechnicianIssuer, string>;

/** The claim most issuers list groups in; Cognito's is `cognito:groups`. */
export const DEFAULT_GROUP_CLAIM = 'groups';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * A checked issuer configuration: an https URL (http only on loopback, for the local provider) without query
 * or fragment, a client id, a claim name. Throws a sentence naming the setting to fix.
 */
export function parseTechnicianIssuer(issuer: string, clientId: string, groupClaim: string = DEFAULT_GROUP_CLAIM, settingOf: (key: keyof TechnicianIssuer) => string = (key) => key): TechnicianIssuer {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new Error(`${settingOf('issuer')} "${issuer}" is not a URL; give the issuer URL its ID tokens name as "iss", such as https://login.microsoftonline.com/<tenant>/v2.0`);
  }
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
  if (!secure || url.search !== '' || url.hash !== '') {
    throw new Error(`${settingOf('issuer')} "${issuer}" must be an https URL without query or fragment (http only on this machine's loopback address)`);
  }
  if (!/^[\x21-\x7e]{1,256}$/.test(clientId)) throw new Error(`${settingOf('clientId')} "${clientId}" is not a client id: give the id the issuer assigned to the relay's application`);
  if (!/^[\x21-\x7e]{1,128}$/.test(groupClaim)) throw new Error(`${settingOf('groupClaim')} "${groupClaim}" is not a claim name (such as groups or cognito:groups)`);
  return { issuer, clientId, groupClaim };
}

/** The issuer the stack configured, or undefined when none is (technician sign-in is then refused). */
export function technicianIssuerFromEnvironment(env: Record<string, string | undefined> = process.env): TechnicianIssuer | undefined {
  const issuer = env[technicianIssuerEnvironmentNames.issuer];
  if (!issuer) return undefined;
  return parseTechnicianIssuer(issuer, env[technicianIssuerEnvironmentNames.clientId] ?? '', env[technicianIssuerEnvironmentNames.groupClaim] || DEFAULT_GROUP_CLAIM, (key) => technicianIssuerEnvironmentNames[key]);
}

/** The environment variables that carry an issuer to the functions. */
export function technicianIssuerToEnvironment(issuer: TechnicianIssuer): Record<string, string> {
  return {
    [technicianIssuerEnvironmentNames.issuer]: issuer.issuer,
    [technicianIssuerEnvironmentNames.clientId]: issuer.clientId,
    [technicianIssuerEnvironmentNames.groupClaim]: issuer.groupClaim,
  };
}

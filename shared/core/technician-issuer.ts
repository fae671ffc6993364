// Checks an OpenID Connect issuer configuration (docs/technicians.md): the relay's (CDK context, npm start) and
// what a relay's /relay.json names for its clients.

import type { TechnicianIssuer, TechnicianSignInInfo } from './technician.js';

/** The claim most issuers list groups in; Cognito's is `cognito:groups`. */
export const DEFAULT_GROUP_CLAIM = 'groups';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * A checked issuer configuration: an https URL (http only on loopback, for the local provider) without query
 * or fragment, a client id, a claim name. Throws a sentence naming the setting to fix.
 */
export function parseTechnicianIssuer(
  issuer: string,
  clientId: string,
  groupClaim: string = DEFAULT_GROUP_CLAIM,
  settingOf: (key: keyof TechnicianIssuer) => string = (key) => key,
): TechnicianIssuer {
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

/** parseTechnicianIssuer, and the loopback redirect when one is given (parseLoopbackRedirect). */
export function parseTechnicianSignIn(
  fields: { issuer: string; clientId: string; groupClaim?: string; loopbackRedirect?: string },
  settingOf: (key: keyof TechnicianSignInInfo) => string = (key) => key,
): TechnicianSignInInfo {
  const issuer = parseTechnicianIssuer(fields.issuer, fields.clientId, fields.groupClaim, settingOf);
  return fields.loopbackRedirect === undefined ? issuer : { ...issuer, loopbackRedirect: parseLoopbackRedirect(fields.loopbackRedirect, settingOf('loopbackRedirect')) };
}

/**
 * A checked loopback redirect for `assist login` (`http://localhost:8976/callback`): http on a loopback name with
 * an explicit port and a path, nothing else, given back exactly as written (issuers compare it character by
 * character). Throws a sentence naming the setting to fix.
 */
export function parseLoopbackRedirect(text: string, setting: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname) || url.port === '' || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || url.href !== text) {
    throw new Error(`${setting} "${text}" must be the loopback address the issuer sends \`assist login\` back to, written out in full, such as http://localhost:8976/callback`);
  }
  return text;
}

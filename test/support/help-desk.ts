// The technician's side of a help-desk offer in tests: a sign-in at the local OpenID provider exchanged for a
// one-time ticket, and a helper code on a connection signed in with it (what `assist offer --device` does).
import { LOOPBACK_CALLBACK_PATH, type LocalOidcProvider } from '../../infra/local/oidc-provider.js';
import type { LocalRuntime } from '../../infra/local/runtime.js';
import { offerHelp, type HelpOffer } from '../../sdk/node.js';
import { beginTechnicianSignIn, finishTechnicianSignIn, requestTechnicianTicket } from '../../sdk/technician.js';
import { signInWithForm } from './oidc-form.js';

const REDIRECT = `http://127.0.0.1:49152${LOOPBACK_CALLBACK_PATH}`;

/** The local provider's technicians (infra/local/technicians.json): Ada is in "Help desk", Grace in "Tier 2". */
export type LocalTechnician = 'ada' | 'grace';

/** A sign-in at the local provider, exchanged for a one-time ticket. */
export async function ticketFor(provider: LocalOidcProvider, runtime: LocalRuntime, username: LocalTechnician): Promise<string> {
  const account = provider.accounts.find((candidate) => candidate.username === username)!;
  const pending = await beginTechnicianSignIn(provider.issuer, REDIRECT);
  const { query } = await signInWithForm(pending.authorizationUrl, REDIRECT, username, account.password);
  return (await requestTechnicianTicket(runtime.httpUrl, await finishTechnicianSignIn(pending, query))).ticket;
}

/** A helper code on a connection the technician signed in; left when `defer`red cleanups run. */
export async function technicianOffer(provider: LocalOidcProvider, runtime: LocalRuntime, username: LocalTechnician, defer: (cleanup: () => unknown) => void): Promise<HelpOffer> {
  const offer = await offerHelp({ relay: runtime.httpUrl, name: username });
  defer(() => offer.leave().catch(() => {}));
  await offer.client.signInTechnician(await ticketFor(provider, runtime, username));
  return offer;
}

// The console's technician sign-in (docs/technicians.md): `/technician` sends the browser to the relay's issuer
// (authorization code + PKCE, with the nonce of an Ed25519 key made here), and the issuer sends it back to
// `/technician?code=…&state=…`. The code is worthless without the PKCE verifier, which never left this tab
// (sessionStorage). The ID token is checked by the relay (it mints a ticket) and kept, with its key, in this tab.

import { generateDeviceKeyPair } from '../../sdk/device.js';
import { beginTechnicianSignIn, finishTechnicianSignIn, relayTechnicianSignIn, requestTechnicianTicket, type PendingSignIn } from '../../sdk/technician.js';
import type { TechnicianIdentity } from '../../shared/core/technician.js';
import { technicianKeyNonce } from '../../shared/technician/proof.js';
import { rememberOperatorKeyFromAddress, showDevices } from './devices.js';
import { button, h, showScreen } from './dom.js';

const PENDING_KEY = 'assist-technician-pending';
/** What the signed-in tab keeps: the ID token bound to its key, for offers (docs/technicians.md, "Bound to a key"). */
export const TECHNICIAN_KEY = 'assist-technician';

export interface TechnicianTab {
  idToken: string;
  publicKey: string;
  privateKey: string;
  technician: TechnicianIdentity;
}

const redirectUri = () => `${location.origin}/technician`;

async function startSignIn(): Promise<void> {
  const keys = await generateDeviceKeyPair();
  const pending = await beginTechnicianSignIn(await relayTechnicianSignIn(location.origin), redirectUri(), { nonce: technicianKeyNonce(keys.publicKey) });
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ pending, keys }));
  location.assign(pending.authorizationUrl);
}

/** Signed in: the Devices view (devices.ts). */
function showSignedIn(tab: TechnicianTab): void {
  showDevices({
    tab,
    signInAgain: startSignIn,
    signOut: () => {
      sessionStorage.removeItem(TECHNICIAN_KEY);
      showTechnicianSignIn();
    },
  });
}

function showProblem(message: string): void {
  showScreen('Sign-in failed', h('p', { role: 'alert' }, message), button('Sign in again', startSignIn));
}

async function finishSignIn(query: URLSearchParams): Promise<void> {
  const kept = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  // The code and state leave the address bar (and the history) at once.
  history.replaceState(null, '', '/technician');
  if (!kept) return showProblem('This sign-in was not started in this tab (or was finished already); sign in again.');
  const { pending, keys } = JSON.parse(kept) as { pending: PendingSignIn; keys: { publicKey: string; privateKey: string } };
  const idToken = await finishTechnicianSignIn(pending, query);
  const { technician } = await requestTechnicianTicket(location.origin, idToken);
  const tab: TechnicianTab = { idToken, ...keys, technician };
  sessionStorage.setItem(TECHNICIAN_KEY, JSON.stringify(tab));
  showSignedIn(tab);
}

/** `/technician`: the sign-in page, or its return from the issuer. */
export function showTechnicianSignIn(): void {
  rememberOperatorKeyFromAddress();
  const query = new URLSearchParams(location.search);
  const run = (work: Promise<void>) => work.catch((error: Error) => showProblem(error.message));
  if (query.has('code') || query.has('error')) return void run(finishSignIn(query));
  const signedIn = sessionStorage.getItem(TECHNICIAN_KEY);
  if (signedIn) return showSignedIn(JSON.parse(signedIn) as TechnicianTab);
  showScreen(
    'Technician sign-in',
    h('p', {}, 'Sign in with your organisation’s account to offer help to your organisation’s devices.'),
    button('Sign in', () => run(startSignIn())),
  );
}

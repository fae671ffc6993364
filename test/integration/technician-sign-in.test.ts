// Technicians sign in through the local OpenID provider `npm start` runs (real HTTP: the authorization code flow
// with PKCE, the login form, the token endpoint), exchange the ID token for a ticket at the relay's HTTPS
// endpoint, and sign a WebSocket connection in with it. Two technicians of different groups; reused and
// expired tickets, expired tokens, a token of another issuer and no token at all are refused with typed errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalOidcProvider, type LocalOidcProvider } from '../../infra/local/oidc-provider.js';
import { startLocalRuntime, type LocalRuntime } from '../../infra/local/runtime.js';
import { beginTechnicianSignIn, finishTechnicianSignIn, relayTechnicianSignIn, requestTechnicianTicket, TechnicianSignInError } from '../../sdk/technician.js';
import { generateDeviceKeyPair } from '../../sdk/device.js';
import { discoverIssuerKeys } from '../../shared/technician/id-token.js';
import { signTechnicianBinding, technicianKeyNonce, verifyTechnicianProof } from '../../shared/technician/proof.js';
import { TestSocket } from '../support/ws-client.js';
import { signInWithForm } from '../support/oidc-form.js';

let provider: LocalOidcProvider;
let otherProvider: LocalOidcProvider;
let runtime: LocalRuntime;
/** The relay's clock runs this far ahead of real time (the provider keeps real time). */
let aheadMs = 0;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  provider = await startLocalOidcProvider();
  otherProvider = await startLocalOidcProvider();
  runtime = await startLocalRuntime({ port: 0, technicianIssuer: provider.signIn, clock: () => Date.now() + aheadMs });
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await runtime.close();
  await provider.close();
  await otherProvider.close();
});

/** The whole sign-in at an issuer, as `assist login` does it (to the redirect the issuer registered for it): the ID token. */
async function idTokenOf(username: string, password: string, at = provider, nonce?: string): Promise<string> {
  const redirect = at.signIn.loopbackRedirect;
  const pending = await beginTechnicianSignIn(at.issuer, redirect, nonce === undefined ? {} : { nonce });
  const { query } = await signInWithForm(pending.authorizationUrl, redirect, username, password);
  return finishTechnicianSignIn(pending, query);
}

/** What the provider answers an authorization request that would come back to `redirect`. */
async function authorizationAnswer(redirect: string): Promise<{ status: number; text: string }> {
  const pending = await beginTechnicianSignIn(provider.issuer, redirect);
  const response = await fetch(pending.authorizationUrl, { redirect: 'manual' });
  return { status: response.status, text: await response.text() };
}

async function signedInSocket(ticket: string) {
  const socket = await TestSocket.open(runtime.wsUrl);
  sockets.push(socket);
  return { socket, reply: await socket.request({ action: 'signInTechnician', ticket }) };
}

const accountOf = (username: string) => provider.accounts.find((account) => account.username === username)!;

describe('technician sign-in through the local OpenID provider', () => {
  it('names the issuer in relay.json, where clients learn where to sign in, with the one redirect assist login must use', async () => {
    expect(await relayTechnicianSignIn(runtime.httpUrl)).toEqual(provider.signIn);
    expect(provider.signIn.loopbackRedirect).toMatch(/^http:\/\/localhost:\d+\/callback$/);
  });

  it("holds assist login to exactly its registered redirect, as Cognito does; the console's page at any loopback port", async () => {
    const registered = new URL(provider.signIn.loopbackRedirect);
    const otherPort = new URL(registered.href);
    otherPort.port = String(Number(registered.port) === 65535 ? 1024 : Number(registered.port) + 1);
    const otherHost = new URL(registered.href);
    otherHost.hostname = '127.0.0.1';
    for (const redirect of [otherPort.href, otherHost.href]) {
      const { status, text } = await authorizationAnswer(redirect);
      expect(status).toBe(400);
      expect(text).toContain(`redirect_mismatch: assist login's sign-ins come back only to exactly ${registered.href}`);
    }
    expect((await authorizationAnswer(registered.href)).status).toBe(303);
    expect((await authorizationAnswer(`http://127.0.0.1:${otherPort.port}/technician`)).status).toBe(303);
  });

  it('signs in two technicians of different groups, each on their own connection', async () => {
    for (const username of ['ada', 'grace']) {
      const account = accountOf(username);
      const { ticket, technician } = await requestTechnicianTicket(runtime.httpUrl, await idTokenOf(username, account.password));
      const expected = { issuer: provider.issuer.issuer, subject: username, name: account.name, email: account.email, groups: account.groups };
      expect(technician).toEqual(expected);
      expect((await signedInSocket(ticket)).reply).toEqual({ type: 'technicianSignedIn', technician: expected });
    }
    expect(accountOf('ada').groups).not.toEqual(accountOf('grace').groups);
  });

  it('refuses a wrong password at the provider', async () => {
    const redirect = provider.signIn.loopbackRedirect;
    const pending = await beginTechnicianSignIn(provider.issuer, redirect);
    expect((await signInWithForm(pending.authorizationUrl, redirect, 'ada', 'not-the-password')).loginStatus).toBe(401);
  });

  it('refuses a reused ticket: each is good once', async () => {
    const { ticket } = await requestTechnicianTicket(runtime.httpUrl, await idTokenOf('ada', accountOf('ada').password));
    expect((await signedInSocket(ticket)).reply.type).toBe('technicianSignedIn');
    expect((await signedInSocket(ticket)).reply).toMatchObject({ type: 'error', code: 'invalid-technician-ticket' });
  });

  it('refuses an expired ticket, then the expired ID token itself', async () => {
    const idToken = await idTokenOf('grace', accountOf('grace').password);
    const { ticket } = await requestTechnicianTicket(runtime.httpUrl, idToken);
    aheadMs = 61_000;
    try {
      expect((await signedInSocket(ticket)).reply).toMatchObject({ type: 'error', code: 'invalid-technician-ticket' });
      aheadMs = 2 * 3600_000;
      const refusal = await requestTechnicianTicket(runtime.httpUrl, idToken).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(TechnicianSignInError);
      expect(refusal).toMatchObject({ code: 'token-refused', tokenCode: 'token-expired' });
    } finally {
      aheadMs = 0;
    }
  });

  it('refuses a relay clock behind the issuer’s beyond the tolerance', async () => {
    const idToken = await idTokenOf('ada', accountOf('ada').password);
    aheadMs = -5 * 60_000;
    try {
      await expect(requestTechnicianTicket(runtime.httpUrl, idToken)).rejects.toMatchObject({ code: 'token-refused', tokenCode: 'token-clock-skew' });
    } finally {
      aheadMs = 0;
    }
  });

  it('refuses an ID token of another issuer, and a request without one', async () => {
    const foreign = await idTokenOf('ada', otherProvider.accounts[0]!.password, otherProvider);
    await expect(requestTechnicianTicket(runtime.httpUrl, foreign)).rejects.toMatchObject({ code: 'token-refused', tokenCode: 'token-wrong-issuer' });
    const bare = await fetch(`${runtime.httpUrl}/technician/ticket`, { method: 'POST' });
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ code: 'token-malformed' });
  });

  it('binds the ID token to the technician’s key, which a device verifies against the issuer it pinned', async () => {
    const keys = await generateDeviceKeyPair();
    const idToken = await idTokenOf('grace', accountOf('grace').password, provider, technicianKeyNonce(keys.publicKey));
    const bound = new TextEncoder().encode('an offer: device, code, reason');
    const proof = { idToken, publicKey: keys.publicKey, signature: await signTechnicianBinding(keys.privateKey, bound) };
    const issuerKeys = await discoverIssuerKeys(provider.issuer.issuer);
    expect(await verifyTechnicianProof(provider.issuer, proof, bound, issuerKeys, Date.now())).toMatchObject({ subject: 'grace', groups: accountOf('grace').groups });
    const unbound = { ...proof, idToken: await idTokenOf('grace', accountOf('grace').password) };
    await expect(verifyTechnicianProof(provider.issuer, unbound, bound, issuerKeys, Date.now())).rejects.toMatchObject({ code: 'token-key-mismatch' });
    await expect(verifyTechnicianProof(otherProvider.issuer, proof, bound, issuerKeys, Date.now())).rejects.toMatchObject({ code: 'token-wrong-issuer' });
  });

  it('keeps a connection that signed in nobody from acting as a technician', async () => {
    const { reply } = await signedInSocket('A'.repeat(43));
    expect(reply).toMatchObject({ type: 'error', code: 'invalid-technician-ticket' });
  });
});

// `assist login` against the local runtime and its OpenID provider: the loopback flow over real HTTP (the test is
// the browser: it follows the printed address, fills in the login form and lets the issuer's redirect reach the
// command), the sign-in kept in a 0600 file with a key the ID token is bound to; the redirect is exactly the one the
// relay's /relay.json names (the provider holds it to that, as Cognito does), heard on both loopback addresses; a
// taken port, a refused sign-in and a relay without an issuer end with typed errors.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalOidcProvider, type LocalOidcProvider } from '../../infra/local/oidc-provider.js';
import { startLocalRuntime, type LocalRuntime } from '../../infra/local/runtime.js';
import { discoverIssuerKeys } from '../../shared/technician/id-token.js';
import { signTechnicianBinding, verifyTechnicianProof } from '../../shared/technician/proof.js';
import type { TechnicianState } from '../../cli/technician.js';
import { useAssist } from '../support/cli.js';
import { signInWithForm } from '../support/oidc-form.js';

let provider: LocalOidcProvider;
let runtime: LocalRuntime;
let bare: LocalRuntime;
const homes: string[] = [];
beforeAll(async () => {
  provider = await startLocalOidcProvider();
  runtime = await startLocalRuntime({ port: 0, technicianIssuer: provider.signIn });
  bare = await startLocalRuntime({ port: 0 });
});
afterAll(async () => {
  await Promise.all([runtime.close(), bare.close(), provider.close()]);
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});
const cli = useAssist(() => runtime.httpUrl);
const stateHome = () => {
  const home = mkdtempSync(join(tmpdir(), 'assist-login-'));
  homes.push(home);
  return home;
};

describe('assist login', () => {
  it('signs in through the browser and keeps an ID token bound to its own key, only for its user', async () => {
    const home = stateHome();
    const login = cli.start(['login', '--json', '--relay', runtime.httpUrl], { env: { XDG_STATE_HOME: home } });
    const { url } = await login.next('sign-in');
    const redirectUri = new URL(String(url)).searchParams.get('redirect_uri')!;
    expect(redirectUri).toBe(provider.signIn.loopbackRedirect);
    const grace = provider.accounts.find((account) => account.username === 'grace')!;
    const { redirectedTo } = await signInWithForm(String(url), redirectUri, 'grace', grace.password);
    // `localhost` may be either loopback address to the browser: the command hears both.
    const port = new URL(redirectUri).port;
    expect((await fetch(`http://127.0.0.1:${port}/elsewhere`)).status).toBe(404);
    const overIpv6 = new URL(redirectedTo!);
    overIpv6.hostname = '[::1]';
    expect((await fetch(overIpv6)).status).toBe(200);

    const signedIn = await login.next('signed-in');
    expect(signedIn.technician).toEqual({ issuer: provider.issuer.issuer, subject: 'grace', name: grace.name, email: grace.email, groups: grace.groups });
    expect(await login.exitCode()).toBe(0);
    const file = join(home, 'assist', 'technician.json');
    expect(signedIn.file).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const kept = JSON.parse(readFileSync(file, 'utf8')) as TechnicianState;
    expect(kept).toMatchObject({ relay: { httpUrl: runtime.httpUrl }, issuer: provider.issuer, technician: signedIn.technician });
    // What the kept sign-in is for: a device verifies the technician end to end against the issuer.
    const bound = new TextEncoder().encode('an offer');
    const proof = { idToken: kept.idToken, publicKey: kept.publicKey, signature: await signTechnicianBinding(kept.privateKey, bound) };
    expect(await verifyTechnicianProof(provider.issuer, proof, bound, await discoverIssuerKeys(provider.issuer.issuer), Date.now())).toMatchObject({ subject: 'grace' });
  });

  it('says which port is taken when another program holds the redirect the relay names', async () => {
    const port = Number(new URL(provider.signIn.loopbackRedirect).port);
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const login = cli.start(['login', '--relay', runtime.httpUrl], { env: { XDG_STATE_HOME: stateHome() } });
      expect(await login.exitCode()).toBe(1);
      expect(login.stderr).toContain(
        `assist: port ${port} on this machine (127.0.0.1) is taken by another program, and the relay's sign-in sends the browser back only to ${provider.signIn.loopbackRedirect}: close that program (another assist login?) and run assist login again`,
      );
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('says so when the issuer refuses the sign-in', async () => {
    const login = cli.start(['login', '--json', '--relay', runtime.httpUrl], { env: { XDG_STATE_HOME: stateHome() } });
    const authorization = new URL(String((await login.next('sign-in')).url));
    const back = new URL(authorization.searchParams.get('redirect_uri')!);
    back.search = new URLSearchParams({ error: 'access_denied', error_description: 'End-User aborted interaction', state: authorization.searchParams.get('state')! }).toString();
    await fetch(back);
    expect(await login.next('error')).toMatchObject({ code: 'sign-in-refused', message: expect.stringContaining('access_denied') });
    expect(await login.exitCode()).toBe(1);
  });

  it('says so when the relay has no sign-in', async () => {
    const login = cli.start(['login', '--json', '--relay', bare.httpUrl], { env: { XDG_STATE_HOME: stateHome() } });
    expect(await login.next('error')).toMatchObject({ code: 'sign-in-not-configured' });
    expect(await login.exitCode()).toBe(1);
  });
});

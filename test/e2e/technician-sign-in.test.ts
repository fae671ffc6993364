// The console's technician sign-in in headless Chromium against the local OpenID provider: authorization code +
// PKCE through the provider's login form and back to /technician (the Devices view), where the relay has checked the ID token.
// Two technicians of different groups, each in a browser of their own; the page's policy lets it reach the issuer.
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalOidcProvider } from '../../infra/local/oidc-provider.js';
import { discoverIssuerKeys } from '../../shared/technician/id-token.js';
import { signTechnicianBinding, verifyTechnicianProof } from '../../shared/technician/proof.js';
import { useConsoleInBrowser } from '../support/browser.js';
import { signInOnConsole } from '../support/console-technician.js';
import type { TechnicianTab } from '../../web/src/technician-sign-in.js';

const provider = await startLocalOidcProvider();
afterAll(() => provider.close());
const browser = useConsoleInBrowser({ technicianIssuer: provider.issuer });

describe('the console’s technician sign-in', () => {
  it('signs in two technicians of different groups through the issuer, each bound to a key of their own tab', async () => {
    for (const username of ['ada', 'grace']) {
      const account = provider.accounts.find((candidate) => candidate.username === username)!;
      const page = username === 'ada' ? browser.page : await browser.newPage(await browser.openContext(), username);
      await signInOnConsole(page, browser.runtime.httpUrl, account);
      await browser.heading('Devices', page).waitFor();
      await page.getByText(`Signed in as ${account.name} (${account.email}) · groups: ${account.groups.join(', ')}`).waitFor();
      // The code and state are gone from the address; the tab keeps the token and its key.
      expect(new URL(page.url()).search).toBe('');
      const tab = JSON.parse((await page.evaluate(() => sessionStorage.getItem('assist-technician')))!) as TechnicianTab;
      expect(tab.technician).toMatchObject({ subject: username, groups: account.groups });
      const bound = new TextEncoder().encode('an offer');
      const proof = { idToken: tab.idToken, publicKey: tab.publicKey, signature: await signTechnicianBinding(tab.privateKey, bound) };
      expect(await verifyTechnicianProof(provider.issuer, proof, bound, await discoverIssuerKeys(provider.issuer.issuer), Date.now())).toMatchObject({ subject: username });
      if (username === 'ada') await browser.shoot('technician-signed-in');
    }
    browser.expectCleanPage();
  });

  it('says what happened when the issuer refuses, and offers to sign in again', async () => {
    const { page } = browser;
    await page.goto(`${browser.runtime.httpUrl}/technician?error=access_denied&state=x`);
    await browser.heading('Sign-in failed').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('not started in this tab');
    await page.getByRole('button', { name: 'Sign in again' }).waitFor();
  });
});

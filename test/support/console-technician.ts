// A technician signs in on the console's /technician page through the local OpenID provider's login form,
// in a real browser (test/e2e).
import type { Page } from 'playwright-core';
import type { LocalAccount } from '../../infra/local/oidc-provider.js';
import { operatorKeyFingerprint } from '../../shared/core/operator-key.js';
import { operatorKey } from './operator.js';

/**
 * From /technician through the issuer's form and back; `formOnly`: the browser is at the form already. The address
 * carries this test process's operator key fingerprint in its fragment, as the link an operator hands out does.
 */
export async function signInOnConsole(page: Page, httpUrl: string, account: LocalAccount, { formOnly = false, operatorKeyInAddress = true } = {}): Promise<void> {
  if (!formOnly) {
    await page.goto(`${httpUrl}/technician${operatorKeyInAddress ? `#operator-key=${operatorKeyFingerprint(operatorKey().publicKey)}` : ''}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await page.getByLabel('User name').fill(account.username);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

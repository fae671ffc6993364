// What a newcomer sees from `npm start`'s OpenID provider: none of oidc-provider's production warnings (in-memory
// sign-ins, Node 22), which are printed in red and do not apply to a development provider; other warnings pass.
import { afterAll, expect, it, vi } from 'vitest';
import { startLocalOidcProvider, type LocalOidcProvider } from '../../infra/local/oidc-provider.js';

let provider: LocalOidcProvider | undefined;
afterAll(async () => {
  await provider?.close();
  vi.restoreAllMocks();
});

it('starts without printing oidc-provider warnings, and leaves console.warn as it was', async () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const installed = console.warn;
  provider = await startLocalOidcProvider();
  expect(warn.mock.calls.filter(([first]) => String(first).includes('oidc-provider WARNING'))).toEqual([]);
  expect(console.warn).toBe(installed);
  console.warn('another warning');
  expect(warn).toHaveBeenLastCalledWith('another warning');
});

// The local OpenID Connect provider `npm start` runs (docs/technicians.md): a real one (oidc-provider), so the
// console, `assist login` and the relay's ticket route run the same code against it as against Entra ID, Google,
// Okta or Cognito. Accounts come from a JSON file (infra/local/technicians.json by default); one public client
// signs in with the authorization code flow and PKCE, redirecting to the console or, as Cognito does, to exactly the
// one loopback address registered for `assist login` (which the relay's /relay.json names).

import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import type Provider from 'oidc-provider';
import type { Context } from 'oidc-provider';
import { DEFAULT_GROUP_CLAIM } from '../../shared/core/technician-issuer.js';
import type { TechnicianIssuer, TechnicianSignInInfo } from '../../shared/core/technician.js';
import { escapeHtml } from '../../shared/server/html.js';

/** The one client the console and `assist login` sign in as; the relay takes tokens issued to it. */
export const LOCAL_CLIENT_ID = 'assist-relay';
/** Where the console finishes a sign-in (relative to the relay's httpUrl), and `assist login`'s loopback path. */
export const CONSOLE_SIGN_IN_PATH = '/technician';
export const LOOPBACK_CALLBACK_PATH = '/callback';
/** oidc-provider's authorization endpoint (set in its routes, checked before it for assist login's redirect). */
const AUTHORIZATION_PATH = '/auth';
export const DEFAULT_ACCOUNTS_FILE = new URL('./technicians.json', import.meta.url);

export interface LocalAccount {
  username: string;
  password: string;
  name: string;
  email: string;
  groups: string[];
}

export interface LocalOidcProviderOptions {
  /** The accounts file (default infra/local/technicians.json). */
  accountsFile?: string | URL;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Where the relay's console is, besides loopback addresses at any port: its public URL, when it has one. */
  consoleOrigins?: readonly string[];
  /** The port of `assist login`'s registered redirect, http://localhost:<port>/callback; 0 or absent: a free one. */
  loopbackPort?: number;
}

export interface LocalOidcProvider {
  /** What the relay verifies tokens against and clients sign in with. */
  issuer: TechnicianIssuer;
  /** The issuer and `assist login`'s registered redirect: what the relay's /relay.json names (startLocalRuntime's technicianIssuer). */
  signIn: TechnicianSignInInfo & { loopbackRedirect: string };
  accounts: readonly LocalAccount[];
  close(): Promise<void>;
}

/** Reads and checks the accounts file; throws a sentence naming the file and what is wrong. */
export async function readAccounts(file: string | URL): Promise<LocalAccount[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`the technicians' accounts file ${String(file)} could not be read as JSON (${(error as Error).message})`);
  }
  const accounts = (parsed as { accounts?: unknown })?.accounts;
  const valid = (account: Record<string, unknown>) =>
    ['username', 'password', 'name', 'email'].every((field) => typeof account[field] === 'string' && account[field] !== '') &&
    Array.isArray(account.groups) &&
    account.groups.every((group) => typeof group === 'string');
  if (!Array.isArray(accounts) || accounts.length === 0 || !accounts.every((account) => account && typeof account === 'object' && valid(account as Record<string, unknown>))) {
    throw new Error(`the technicians' accounts file ${String(file)} must be {"accounts": [{"username", "password", "name", "email", "groups": [...]}, ...]} with at least one account`);
  }
  const usernames = accounts.map((account: LocalAccount) => account.username);
  if (new Set(usernames).size !== usernames.length) throw new Error(`the technicians' accounts file ${String(file)} names a user twice`);
  return accounts as LocalAccount[];
}

const samePassword = (given: string, expected: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

function loginPage(action: string, problem?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in: Assist Relay (local)</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"></head>
<body style="font-family: system-ui, sans-serif; max-width: 24rem; margin: 3rem auto">
<h1>Sign in</h1>
<p>The local OpenID provider of <code>npm start</code>, for development: accounts come from its accounts file.</p>
${problem ? `<p role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="${escapeHtml(action)}">
<p><label>User name <input name="username" autocomplete="username" required autofocus></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Sign in</button></p>
</form></body></html>`;
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of request as AsyncIterable<Buffer>) {
    body += chunk.toString('utf8');
    if (body.length > 4096) break;
  }
  return new URLSearchParams(body);
}

const INTERACTION_PATH = /^\/interaction\/([\w-]+)(\/login)?$/;

/** oidc-provider's warnings about production use that do not apply to this development provider: its sign-ins
 * live in memory on purpose (they end with `npm start`, as its in-memory database does), and it names Node 22 as
 * its supported runtime while the tests run it on Node 20 too (docs/technicians.md). Newcomers saw them in red. */
const DEVELOPMENT_PROVIDER_WARNINGS = ['oidc-provider WARNING: Unsupported runtime', 'oidc-provider WARNING: a quick start development-only in-memory adapter'];

async function withoutDevelopmentProviderWarnings<T>(start: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!DEVELOPMENT_PROVIDER_WARNINGS.some((warning) => String(args[0]).includes(warning))) warn(...args);
  };
  try {
    return await start();
  } finally {
    console.warn = warn;
  }
}

/** A port free on both loopback addresses (where `localhost` may resolve), for `assist login` to listen on later. */
async function freeLoopbackPort(): Promise<number> {
  const listen = (port: number, host: string) =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });
  const first = await listen(0, '127.0.0.1');
  const { port } = first.address() as AddressInfo;
  // Taken on ::1 by something else: try another. No IPv6 here: 127.0.0.1 is all `localhost` can be.
  const second = await listen(port, '::1').catch((error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? 'taken' : undefined));
  await Promise.all([first, second].map((server) => typeof server === 'object' && new Promise((resolve) => server.close(resolve))));
  return second === 'taken' ? freeLoopbackPort() : port;
}

/**
 * Why an authorization request for `assist login` is refused, the way Cognito refuses it: its redirect must be the
 * registered one character for character. (oidc-provider lets a native client's loopback redirects through at any
 * port, which the console's page, served at whichever loopback name and port the relay has, relies on.)
 */
function loopbackRedirectMismatch(request: IncomingMessage, loopbackRedirect: string): string | undefined {
  const url = new URL(request.url ?? '/', 'http://local');
  if (url.pathname !== AUTHORIZATION_PATH) return undefined;
  if (request.method !== 'GET') return 'this local provider takes authorization requests by GET only, as the console and assist login send them';
  const redirect = url.searchParams.get('redirect_uri') ?? '';
  if (!URL.canParse(redirect) || new URL(redirect).pathname !== LOOPBACK_CALLBACK_PATH || redirect === loopbackRedirect) return undefined;
  return `redirect_mismatch: assist login's sign-ins come back only to exactly ${loopbackRedirect} (the relay's /relay.json names it), not to ${redirect}`;
}

/** Starts the provider on its own port; its issuer is `http://<host>:<port>`. */
export async function startLocalOidcProvider(options: LocalOidcProviderOptions = {}): Promise<LocalOidcProvider> {
  const accounts = await readAccounts(options.accountsFile ?? DEFAULT_ACCOUNTS_FILE);
  const byUsername = new Map(accounts.map((account) => [account.username, account]));
  const host = options.host ?? '127.0.0.1';
  let provider: Provider | undefined;

  const interaction = async (request: IncomingMessage, response: ServerResponse, login: boolean) => {
    const details = await provider!.interactionDetails(request, response);
    // A first-party client: the technician is not asked to consent to the relay seeing their name and groups
    // (oidc-provider asks native clients every time otherwise).
    if (details.prompt.name === 'consent') {
      const grant = new provider!.Grant({ clientId: String(details.params.client_id), accountId: details.session!.accountId });
      grant.addOIDCScope('openid profile email');
      return provider!.interactionFinished(request, response, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    }
    const action = `/interaction/${details.uid}/login`;
    const page = (status: number, problem?: string) => response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(loginPage(action, problem));
    if (!login || request.method !== 'POST') return page(200);
    const form = await readForm(request);
    const account = byUsername.get(form.get('username') ?? '');
    if (!account || !samePassword(form.get('password') ?? '', account.password)) return page(401, 'Wrong user name or password: check them in the accounts file and try again.');
    await provider!.interactionFinished(request, response, { login: { accountId: account.username } }, { mergeWithLastSubmission: false });
  };

  const loopbackRedirect = `http://localhost:${options.loopbackPort || (await freeLoopbackPort())}${LOOPBACK_CALLBACK_PATH}`;
  const server: Server = createServer((request, response) => {
    const mismatch = loopbackRedirectMismatch(request, loopbackRedirect);
    if (mismatch) return response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end(`Sign-in failed: ${mismatch}. Start it again from the console or assist login.`);
    const match = INTERACTION_PATH.exec(new URL(request.url ?? '/', 'http://local').pathname);
    if (!match) return provider!.callback()(request, response);
    interaction(request, response, match[2] !== undefined).catch((error: Error) => {
      if (!response.headersSent) response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end(`This sign-in cannot go on (${error.message}); start it again from the console or assist login.`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const consoleRedirects = ['127.0.0.1', 'localhost', '[::1]'].map((name) => `http://${name}${CONSOLE_SIGN_IN_PATH}`);
  const jwk = await exportJWK(privateKey);
  provider = await withoutDevelopmentProviderWarnings(async () => {
    // Loaded only now: `npm start`'s refusals of bad options come first.
    const { default: Provider } = await import('oidc-provider');
    return new Provider(issuer, {
      clients: [
        {
          client_id: LOCAL_CLIENT_ID,
          // Native: loopback redirects match at any port (RFC 8252), so the console needs no fixed one; assist login's
          // is held to its exact address before the provider sees the request (loopbackRedirectMismatch).
          application_type: 'native',
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code'],
          response_types: ['code'],
          id_token_signed_response_alg: 'ES256',
          redirect_uris: [...consoleRedirects, loopbackRedirect, ...(options.consoleOrigins ?? []).map((origin) => `${origin}${CONSOLE_SIGN_IN_PATH}`)],
        },
      ],
      pkce: { required: () => true },
      routes: { authorization: AUTHORIZATION_PATH },
      jwks: { keys: [{ ...jwk, kid: 'local-1', alg: 'ES256', use: 'sig' }] },
      cookies: { keys: [crypto.randomUUID()] },
      // Groups ride with the profile scope, so clients ask only for the standard scopes every issuer knows.
      claims: { openid: ['sub'], profile: ['name', 'preferred_username', DEFAULT_GROUP_CLAIM], email: ['email', 'email_verified'] },
      // The ID token itself carries the claims of the scopes asked for: it is all the relay and devices see.
      conformIdTokenClaims: false,
      features: { devInteractions: { enabled: false } },
      interactions: { url: (_ctx: Context, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      findAccount: (_ctx: Context, id: string) => {
        const account = byUsername.get(id);
        return (
          account && {
            accountId: id,
            claims: () => ({ sub: id, name: account.name, preferred_username: id, email: account.email, email_verified: true, [DEFAULT_GROUP_CLAIM]: account.groups }),
          }
        );
      },
      // The console's page calls the token endpoint from the relay's origin.
      clientBasedCORS: () => true,
      ttl: { AuthorizationCode: 60, IdToken: 3600, AccessToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
      renderError: (ctx: { type: string; body: string }, out: { error: string; error_description?: string }) => {
        ctx.type = 'text/plain; charset=utf-8';
        ctx.body = `Sign-in failed: ${out.error}${out.error_description ? ` (${out.error_description})` : ''}. Start it again from the console or assist login.`;
      },
    });
  });
  const technicianIssuer = { issuer, clientId: LOCAL_CLIENT_ID, groupClaim: DEFAULT_GROUP_CLAIM };
  return {
    issuer: technicianIssuer,
    signIn: { ...technicianIssuer, loopbackRedirect },
    accounts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

import { createJsonLog } from '../../shared/server/ports/log.js';
import { loadConsoleSite, type ConsoleSite } from '../../web/server/console-site.js';
import { startLocalOidcProvider } from './oidc-provider.js';
import { startLocalRuntime } from './runtime.js';
import { parseStartOptions, startUsage, type RunOptions } from './start-options.js';

function fail(message: string): never {
  console.error(`error: ${message}\n\n${startUsage}`);
  process.exit(2);
}

let options: RunOptions;
try {
  const parsed = parseStartOptions(process.argv.slice(2), process.env);
  if (parsed.help) {
    console.log(startUsage);
    process.exit(0);
  }
  options = parsed;
} catch (error) {
  fail((error as Error).message);
}
const { port, policy } = options;

/** Builds the web console (web/) afresh, so it matches this checkout; the relay runs without it if that fails. */
async function buildWebConsole(): Promise<ConsoleSite | undefined> {
  try {
    const { buildConsole } = await import('../../web/build/build.js');
    return loadConsoleSite(await buildConsole());
  } catch (error) {
    console.warn(`The web console could not be built, so the relay serves its plain pages: ${(error as Error).message}`);
    return undefined;
  }
}

try {
  const webConsole = await buildWebConsole();
  // The issuer lives on this machine's loopback address: technicians sign in from here (or through --public-url's console).
  const oidc = await startLocalOidcProvider({
    port: options.oidcPort,
    accountsFile: options.techniciansFile,
    consoleOrigins: options.publicUrl ? [options.publicUrl] : [],
    loopbackPort: options.loginPort,
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') fail(`port ${options.oidcPort} (the local OpenID provider's) is already in use; pick another with --oidc-port`);
    return fail((error as Error).message);
  });
  const runtime = await startLocalRuntime({
    technicianIssuer: oidc.signIn,
    port,
    host: options.host,
    publicUrl: options.publicUrl,
    dataDir: options.dataDir,
    policy,
    console: webConsole,
    ...(options.verbose ? { log: createJsonLog() } : {}),
  });
  const { httpUrl, webSocketUrl, pageOrigins = [] } = runtime.endpoints;
  console.log(`Assist Relay is running locally.
  WebSocket URL: ${webSocketUrl}
  HTTP URL:      ${httpUrl}   (health: ${httpUrl}/healthz)${options.publicUrl ? `
  Listening on:  ${runtime.httpUrl}   (${options.host}; --public-url is what links, files and emails say)` : ''}${webConsole ? `
  Web console:   ${httpUrl}/   (ask for help: ${httpUrl}/help)` : ''}
  Sign-in:       ${oidc.issuer.issuer}   (the local OpenID provider technicians sign in with, client id ${oidc.issuer.clientId}; accounts: ${options.techniciansFile ?? 'infra/local/technicians.json'};
                 assist login comes back to exactly ${oidc.signIn.loopbackRedirect}, --login-port)
  Mail outbox:   ${runtime.httpUrl}/outbox   (emailed invitations land here, shown to this machine only; files in ${runtime.outbox.dir})
  Internal:      ${runtime.internalUrl}   (@connections and SES, loopback only; the handlers reach @connections in process)
  Database:      ${runtime.dynamoEndpoint}   (dynalite in a thread of its own, ${options.dataDir ? `kept in ${options.dataDir}` : 'in memory'}; table ${runtime.tableName})
  Browser pages: ${[...new Set([new URL(httpUrl).origin, ...pageOrigins, ...policy.allowedOrigins])].join(', ')}   (the origins that may connect)
Press Ctrl-C to stop.`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping: closing connections…');
    await runtime.close();
    await oidc.close();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') fail(`port ${port} is already in use; pick another with --port or PORT`);
  throw error;
}

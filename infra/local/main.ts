import { parseArgs } from 'node:util';
import { parseAllowedOrigins, policyFromEnvironment, type RelayPolicy } from '../../shared/config/policy.js';
import { createJsonLog } from '../../shared/ports/log.js';
import { loadConsoleSite, type ConsoleSite } from '../../web/server/console-site.js';
import { startLocalRuntime } from './runtime.js';

const usage = `Usage: npm start -- [options]

Runs the whole Assist Relay on this machine: the same Lambda handlers behind a local
API Gateway look-alike, with dynalite as DynamoDB. No AWS account needed.

Options:
  --port N          port to listen on (default 8787, or $PORT; 0 picks a free one)
  --host ADDR       address to bind (default 127.0.0.1)
  --data-dir DIR    keep the database in DIR across restarts (default: in memory)
  --allowed-origin ORIGIN
                    also let browser pages from ORIGIN (like https://help.example.org)
                    connect; repeatable (default: only the relay's own pages, or the
                    comma-separated $ASSIST_ALLOWED_ORIGINS); no wildcards
  --verbose         print the handlers' JSON log lines
  -h, --help        show this help

Operator policy: the same ASSIST_* environment variables as the Lambda functions
(lifetimes, limits, allowed origins; see the README), e.g.
  ASSIST_EASY_CONNECT_TTL_SECONDS=600 npm start

Examples:
  npm start
  PORT=9000 npm start
  npm start -- --data-dir .local-data --verbose
  npm start -- --allowed-origin https://help.example.org
`;

function fail(message: string): never {
  console.error(`error: ${message}\n\n${usage}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'allowed-origin': { type: 'string', multiple: true },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
} catch (error) {
  fail((error as Error).message);
}
const { values } = parsed;
if (values.help) {
  console.log(usage);
  process.exit(0);
}

const portText = values.port ?? process.env.PORT ?? '8787';
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a number from 0 to 65535, got "${portText}"`);

// The functions' own reader of the ASSIST_* variables, so both runtimes take the same knobs; the flag wins over the variable.
let policy: RelayPolicy;
try {
  policy = policyFromEnvironment();
  const flagged = values['allowed-origin'];
  if (flagged) policy = { ...policy, allowedOrigins: parseAllowedOrigins(flagged, '--allowed-origin') };
} catch (error) {
  fail((error as Error).message);
}

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
  const runtime = await startLocalRuntime({
    port,
    host: values.host ?? '127.0.0.1',
    dataDir: values['data-dir'],
    policy,
    console: webConsole,
    ...(values.verbose ? { log: createJsonLog() } : {}),
  });
  console.log(`Assist Relay is running locally.
  WebSocket URL: ${runtime.wsUrl}
  HTTP URL:      ${runtime.httpUrl}   (health: ${runtime.httpUrl}/healthz)${webConsole ? `
  Web console:   ${runtime.httpUrl}/   (ask for help: ${runtime.httpUrl}/help)` : ''}
  Mail outbox:   ${runtime.httpUrl}/outbox   (emailed invitations land here, shown to this machine only; files in ${runtime.outbox.dir})
  Internal:      ${runtime.internalUrl}   (@connections and SES, loopback only; the handlers reach @connections in process)
  Database:      ${runtime.dynamoEndpoint}   (dynalite, ${values['data-dir'] ? `kept in ${values['data-dir']}` : 'in memory'}; table ${runtime.tableName})
  Browser pages: ${[new URL(runtime.httpUrl).origin, ...policy.allowedOrigins].join(', ')}   (the origins that may connect)
Press Ctrl-C to stop.`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping: closing connections…');
    await runtime.close();
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

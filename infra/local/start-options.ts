import { parseArgs } from 'node:util';
import { parseAllowedOrigins, policyFromEnvironment, type RelayPolicy } from '../../shared/server/config/policy.js';
import { checkBinding, normalizePublicUrl } from './addresses.js';

// `npm start`'s arguments and environment, checked before anything starts: every refusal is one
// sentence saying what is wrong and what to pass instead.

export const startUsage = `Usage: npm start -- [options]

Runs the whole Assist Relay on this machine: the same Lambda handlers behind a local
API Gateway look-alike, with dynalite as DynamoDB. No AWS account needed.

Options:
  --port N          port to listen on (default 8787, or $PORT; 0 picks a free one)
  --host ADDR       address to bind (default 127.0.0.1, and ::1 beside it: the console opens
                    at localhost, 127.0.0.1 and [::1]); 0.0.0.0 or :: (every network) needs
                    --public-url
  --public-url URL  the address people reach this relay at, e.g. https://relay.example.org
                    (or $ASSIST_PUBLIC_URL): what relay.json, links, invitation files and
                    emails say; default: the bound address
  --data-dir DIR    keep the database in DIR across restarts (default: in memory)
  --allowed-origin ORIGIN
                    also let browser pages from ORIGIN (like https://help.example.org)
                    connect; repeatable (default: only the relay's own pages, or the
                    comma-separated $ASSIST_ALLOWED_ORIGINS); no wildcards
  --technicians FILE
                    the local OpenID provider's accounts (default
                    infra/local/technicians.json: ada and grace, for development only)
  --oidc-port N     port of the local OpenID provider technicians sign in with (default
                    the relay's port + 1, or a free one with --port 0)
  --login-port N    the port \`assist login\` listens on: the provider registers exactly
                    http://localhost:N/callback for it, as Cognito does, and relay.json names
                    it (default the relay's port + 2, or a free one with --port 0)
  --verbose         print the handlers' JSON log lines
  -h, --help        show this help

Operator policy: the same ASSIST_* environment variables as the Lambda functions
(lifetimes, limits, allowed origins; see the README), e.g.
  ASSIST_EASY_CONNECT_TTL_SECONDS=600 npm start

Examples:
  npm start
  PORT=9000 npm start
  npm start -- --data-dir .local-data --verbose
  npm start -- --host 0.0.0.0 --public-url http://my-laptop.example.org:8787
  npm start -- --allowed-origin https://help.example.org
`;

export type StartOptions = { help: true } | ({ help: false } & RunOptions);

export interface RunOptions {
  port: number;
  host: string;
  publicUrl: string | undefined;
  dataDir: string | undefined;
  policy: RelayPolicy;
  verbose: boolean;
  /** The local OpenID provider's accounts file; its default when absent. */
  techniciansFile: string | undefined;
  oidcPort: number;
  /** The port of the one loopback redirect the local provider registers for `assist login`. */
  loginPort: number;
}

/** Reads `npm start -- …` and the environment; throws an Error whose message is the sentence to show. */
export function parseStartOptions(args: string[], env: NodeJS.ProcessEnv): StartOptions {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'public-url': { type: 'string' },
      'data-dir': { type: 'string' },
      'allowed-origin': { type: 'string', multiple: true },
      verbose: { type: 'boolean', default: false },
      technicians: { type: 'string' },
      'oidc-port': { type: 'string' },
      'login-port': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return { help: true };
  const portText = values.port ?? env.PORT ?? '8787';
  const port = portNumber(portText, '--port');
  const besideRelay = (offset: number, option: string, given: string | undefined) => (given === undefined ? (port === 0 ? 0 : port + offset) : portNumber(given, option));
  const oidcPort = besideRelay(1, '--oidc-port', values['oidc-port']);
  const loginPort = besideRelay(2, '--login-port', values['login-port']);
  // The functions' own reader of the ASSIST_* variables, so both runtimes take the same knobs; a flag wins over its variable.
  let policy = policyFromEnvironment(env);
  const flagged = values['allowed-origin'];
  if (flagged) policy = { ...policy, allowedOrigins: parseAllowedOrigins(flagged, '--allowed-origin') };
  const host = values.host ?? '127.0.0.1';
  const publicUrlText = values['public-url'] ?? (env.ASSIST_PUBLIC_URL || undefined);
  const publicUrl = publicUrlText === undefined ? undefined : normalizePublicUrl(publicUrlText, values['public-url'] === undefined ? 'ASSIST_PUBLIC_URL' : '--public-url');
  checkBinding(host, publicUrl);
  return { help: false, port, host, publicUrl, dataDir: values['data-dir'], policy, verbose: values.verbose, techniciansFile: values.technicians, oidcPort, loginPort };
}

function portNumber(text: string, option: string): number {
  const port = Number(text);
  if (text.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${option} must be a number from 0 to 65535, got "${text}"`);
  return port;
}

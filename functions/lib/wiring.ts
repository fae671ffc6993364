import type { ApiGatewayManagementApiClientConfig } from '@aws-sdk/client-apigatewaymanagementapi';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import type { SesMailerOptions } from '../../shared/server/adapters/ses-mailer.js';
import { policyFromEnvironment, type RelayPolicy } from '../../shared/server/config/policy.js';
import type { ConnectionNotifier } from '../../shared/server/ports/connection-notifier.js';
import { createJsonLog, type Log } from '../../shared/server/ports/log.js';
import type { Mailer } from '../../shared/server/ports/mailer.js';
import type { RelayDeps, RelayEndpoints } from '../../shared/server/use-cases/deps.js';
import { technicianIssuerFromEnvironment } from '../../shared/server/config/technician-issuer.js';
import type { TechnicianSignInInfo } from '../../shared/core/technician.js';
import { RouteCache } from '../../shared/server/use-cases/route-cache.js';
import type { WebSocketEvent } from './events.js';
import type { SdkClient } from './routes.js';

/** Builds the use cases' dependencies for one event (none for scheduled work such as the sweeper). */
export type DepsResolver = (event?: WebSocketEvent) => RelayDeps;

/**
 * The AWS clients a function may build, each passed in by the function's own file (functions/lib/clients.ts):
 * a bundle then carries only the clients its route-table entry names, and `default` none.
 */
export interface ClientFactories {
  /** The table's adapters (session store, audit trail, rate limiter) over one DynamoDB client (`onClient` sees it). */
  dynamo?: (config: DynamoDBClientConfig, tableName: string, nowSeconds: () => number, onClient?: (client: object) => void) => TableAdapters;
  /** The @connections notifier over a management client for `endpoint` (`onClient` sees the client). */
  management?: (
    endpoint: string,
    config: Omit<ApiGatewayManagementApiClientConfig, 'endpoint' | 'maxAttempts'>,
    log: Log,
    onClient?: (client: object) => void,
  ) => ConnectionNotifier;
  /** The mailer over an SES v2 client, sending as `sender` (`onClient` sees the client). */
  ses?: (config: SESv2ClientConfig, sender: SesMailerOptions, log: Log, onClient?: (client: object) => void) => Mailer;
}

export type TableAdapters = Pick<RelayDeps, 'store' | 'audit' | 'rateLimiter' | 'devices' | 'technicians'>;

const missingClient = (what: string) => new Error(`this function was built without the ${what} client; add it to its file's clients (and its route-table entry)`);

export interface RelayWiring {
  clients: ClientFactories;
  tableName: string;
  policy: RelayPolicy;
  log: Log;
  /** DynamoDB endpoint override (the local runtime's dynalite). */
  dynamoEndpoint?: string;
  /**
   * The stage's @connections endpoint (on AWS `https://<api id>.execute-api.<region>.amazonaws.com/<stage>`,
   * CALLBACK_URL). Not derived from the event: behind a custom domain the event names that domain, whose
   * base-path mapping does not serve @connections.
   */
  callbackUrl: string;
  endpoints: RelayEndpoints;
  /** Who emails come from; without a sender (or without the SES client) the relay refuses to email invitations. */
  sender?: SesMailerOptions;
  /** SES endpoint override (the local runtime's outbox). */
  sesEndpoint?: string;
  clock?: () => number;
  /** Region and credentials for the local runtime's clients; on Lambda they come from the environment. */
  awsClientConfig?: { region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** Called with each AWS client the wiring builds (the local runtime enforces the function's grants on it). */
  onClient?: (service: SdkClient, client: object) => void;
  /** The OpenID Connect issuer technicians sign in with (CDK context, or the local provider); none: technician sign-in is refused. */
  technicianIssuer?: TechnicianSignInInfo;
  /** What carries the @connections client's requests; the SDK's HTTP handler when absent (the local runtime: in process). */
  managementRequestHandler?: ApiGatewayManagementApiClientConfig['requestHandler'];
}

/** Creates clients once per container (or local runtime) and reuses them for every event. */
export function createDepsResolver(wiring: RelayWiring): DepsResolver {
  const clock = wiring.clock ?? Date.now;
  const nowSeconds = () => Math.floor(clock() / 1000);
  let tables: TableAdapters | undefined;
  // Built on first use, once per container.
  const table = () => {
    if (tables) return tables;
    if (!wiring.clients.dynamo) throw missingClient('DynamoDB');
    return (tables = wiring.clients.dynamo({ ...wiring.awsClientConfig, endpoint: wiring.dynamoEndpoint }, wiring.tableName, nowSeconds, (client) =>
      wiring.onClient?.('dynamodb', client),
    ));
  };
  let notifier: ConnectionNotifier | undefined;
  let mailer: Mailer | undefined;
  const deps: RelayDeps = {
    get store() {
      return table().store;
    },
    get audit() {
      return table().audit;
    },
    get rateLimiter() {
      return table().rateLimiter;
    },
    get devices() {
      return table().devices;
    },
    get technicians() {
      return table().technicians;
    },
    technicianIssuer: wiring.technicianIssuer,
    // Only a function given the SES client (the email route) builds a mailer, on first use.
    get mailer() {
      if (mailer || !wiring.sender || !wiring.clients.ses) return mailer;
      return (mailer = wiring.clients.ses({ ...wiring.awsClientConfig, endpoint: wiring.sesEndpoint }, wiring.sender, wiring.log, (client) =>
        wiring.onClient?.('sesv2', client),
      ));
    },
    endpoints: wiring.endpoints,
    policy: wiring.policy,
    log: wiring.log,
    clock,
    routes: new RouteCache(wiring.policy.routeCacheSeconds * 1000),
    // Functions that never post or disconnect never create the management client.
    get notifier() {
      if (notifier) return notifier;
      if (!wiring.clients.management) throw missingClient('API Gateway Management');
      const requestHandler = wiring.managementRequestHandler;
      return (notifier = wiring.clients.management(
        wiring.callbackUrl,
        { ...wiring.awsClientConfig, ...(requestHandler && { requestHandler }) },
        wiring.log,
        (client) => wiring.onClient?.('apigatewaymanagementapi', client),
      ));
    },
  };
  return () => deps;
}

function requiredEnvironment(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set; the deployment is misconfigured`);
  return value;
}

/**
 * The Lambda wiring: configuration from environment variables set by the CDK stack, built once per
 * container. A function's entry passes the client factories its route-table entry names, and only those.
 */
export function depsFromEnvironment(clients: ClientFactories): DepsResolver {
  let resolver: DepsResolver | undefined;
  return (event) => {
    resolver ??= createDepsResolver({
      clients,
      tableName: requiredEnvironment('TABLE_NAME'),
      policy: policyFromEnvironment(),
      log: createJsonLog(),
      // Read on first post: only the functions that post or disconnect are given it.
      get callbackUrl() {
        return requiredEnvironment('CALLBACK_URL');
      },
      endpoints: { webSocketUrl: requiredEnvironment('ASSIST_WEBSOCKET_URL'), httpUrl: requiredEnvironment('ASSIST_HTTP_URL') },
      technicianIssuer: technicianIssuerFromEnvironment(),
      // The sender identity and configuration set come from CDK context; without a sender, emailing is refused.
      sender: process.env.ASSIST_EMAIL_FROM
        ? { from: process.env.ASSIST_EMAIL_FROM, configurationSetName: process.env.ASSIST_SES_CONFIGURATION_SET || undefined }
        : undefined,
    });
    return resolver(event);
  };
}

/** The HTTPS function's wiring: it reads no session, so it builds no session store and no @connections client. */
export function httpDepsFromEnvironment(clients: Required<Pick<ClientFactories, 'dynamo'>>): () => Pick<RelayDeps, 'endpoints' | 'clock' | 'policy' | 'rateLimiter' | 'technicianIssuer'> {
  let deps: Pick<RelayDeps, 'endpoints' | 'clock' | 'policy' | 'rateLimiter' | 'technicianIssuer'> | undefined;
  return () => {
    if (deps) return deps;
    const { rateLimiter } = clients.dynamo({}, requiredEnvironment('TABLE_NAME'), () => Math.floor(Date.now() / 1000));
    return (deps = {
      // The relay URL's page counts its views with joins.
      rateLimiter,
      endpoints: { webSocketUrl: requiredEnvironment('ASSIST_WEBSOCKET_URL'), httpUrl: requiredEnvironment('ASSIST_HTTP_URL') },
      clock: Date.now,
      policy: policyFromEnvironment(),
      // relay.json names it, so the console and assist login know where technicians sign in.
      technicianIssuer: technicianIssuerFromEnvironment(),
    });
  };
}

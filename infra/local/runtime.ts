import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { httpRoute } from '../../functions/http.js';
import { technicianTicketRoute } from '../../functions/technician-ticket.js';
import { cachedIssuerKeys } from '../../shared/technician/id-token.js';
import { TECHNICIAN_TICKET_PATH, type TechnicianSignInInfo } from '../../shared/core/technician.js';
import { dynamo as dynamoClient, management, ses } from '../../functions/lib/clients.js';
import { useCaseOf, webSocketRoute } from '../../functions/lib/entries.js';
import { createDepsResolver, type DepsResolver } from '../../functions/lib/wiring.js';
import { functionNameOf, isOneWay, otherFunctions, webSocketRoutes, type FunctionSpec, type WebSocketRouteKey, type WebSocketRouteSpec } from '../../functions/lib/routes.js';
import { enforceGrants } from './iam.js';
import { sweepJob } from '../../functions/sweep.js';
import type { RelayEndpoints } from '../../shared/server/use-cases/deps.js';
import { createMailOutbox, OUTBOX_SES_PATH, type MailOutbox } from './mail-outbox.js';
import { defaultPolicy, parseAllowedOrigins, type RelayPolicy } from '../../shared/server/config/policy.js';
import { silentLog, type Log } from '../../shared/server/ports/log.js';
import type { ConsoleSite } from '../../web/server/console-site.js';
import { checkBinding, isWildcardHost, localEndpoints, loopbackAlias, normalizePublicUrl, urlHost } from './addresses.js';
import { createChaos, type ChaosOptions } from './chaos.js';
import { InProcessConnections } from './in-process-connections.js';
import { startLocalDynamo, localAwsConfig } from './dynamo.js';
import { apiGatewayLimits, isLoopbackClient, LocalGateway, requestParts, type GatewayLimits, type GatewayTap, type RouteHandler } from './gateway.js';

type HttpHandler = ReturnType<typeof httpRoute> | ReturnType<typeof technicianTicketRoute>;

export interface LocalRuntimeOptions {
  /** The address to bind (default 127.0.0.1, and ::1 beside it); a wildcard (0.0.0.0, ::) needs publicUrl. */
  host?: string;
  /**
   * The address people reach the relay at (`https://relay.example.org`, an origin): what relay.json,
   * links, invitation files and emails say, and the origin its own pages have. Default: the bound address.
   */
  publicUrl?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Persist the table here; in memory when absent. */
  dataDir?: string;
  /** Limits, and the browser origins besides the relay's own that may connect (normalized and checked at start). */
  policy?: Partial<RelayPolicy>;
  limits?: Partial<GatewayLimits>;
  chaos?: ChaosOptions;
  /** Observe or rewrite every message the relay handles (tests only). */
  tap?: GatewayTap;
  /**
   * Grants in place of the route table's, by function name (`extend-session`): what a function's missing grant
   * does (tests only; the stack always grants the table's).
   */
  grants?: Record<string, FunctionSpec>;
  log?: Log;
  /** How often overdue sessions are ended and expired items deleted. */
  sweepIntervalMs?: number;
  /** The handlers' clock in epoch milliseconds (tests step it; the gateway's own timers keep real time). */
  clock?: () => number;
  tableName?: string;
  /** Where emailed invitations land as .eml files; a temporary folder (or `<dataDir>/outbox`) by default. */
  outboxDir?: string;
  /** The web console to serve at `/`, `/help` and `/join/<nameplate>` (web/server/console-site.ts); without it, the plain join page. */
  console?: ConsoleSite;
  /**
   * How the handlers' @connections client reaches the gateway: 'in-process' (default: the SDK's request
   * handler interface answered by a function call, infra/local/in-process-connections.ts) or 'http'
   * (a loopback HTTP request per call, as before; benchmarks compare the two). The HTTP endpoint is served either way.
   */
  connectionsPath?: 'in-process' | 'http';
  /** The OpenID Connect issuer technicians sign in with (main.ts starts the local provider for it); none: technician sign-in is refused. */
  technicianIssuer?: TechnicianSignInInfo;
}

export interface LocalRuntime {
  /** Where this machine reaches the relay (the bound address; 127.0.0.1 for a wildcard bind). */
  wsUrl: string;
  httpUrl: string;
  /** What the relay hands out: relay.json, links, files and emails (publicUrl's, or the bound address's). */
  endpoints: RelayEndpoints;
  /**
   * The relay's own endpoints, on a loopback-only port whatever `host` is: `@connections` under
   * `<internalUrl>/local` and the SES stand-in under `<internalUrl>/ses`.
   */
  internalUrl: string;
  gateway: LocalGateway;
  dynamoEndpoint: string;
  tableName: string;
  /** The local mail outbox: every email the relay sent, also listed at `<httpUrl>/outbox`. */
  outbox: MailOutbox;
  /** Requests served so far by the store and by the @connections API (benchmarks). */
  counters(): { dynamoRequests: number; managementRequests: number };
  /** Runs one sweep now (tests use it instead of waiting for the timer). */
  sweep(): Promise<void>;
  close(): Promise<void>;
}

const STAGE = 'local';
/** The sender address of local emails; nothing leaves the machine. */
const LOCAL_SENDER = 'Assist Relay <relay@localhost>';

// The pinned SDK supports Node 20 (the local minimum); its notice about future releases is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Starts the whole relay on this machine: dynalite, the same handlers, and an API Gateway look-alike. */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  // Before anything starts: a malformed origin (or a wildcard) is refused with the reason.
  const allowedOrigins = parseAllowedOrigins(options.policy?.allowedOrigins ?? [], 'allowedOrigins');
  const host = options.host ?? '127.0.0.1';
  const publicUrl = options.publicUrl === undefined ? undefined : normalizePublicUrl(options.publicUrl, 'publicUrl');
  checkBinding(host, publicUrl);
  const tableName = options.tableName ?? 'assist-relay';
  const log = options.log ?? silentLog;
  const dynamo = await startLocalDynamo(tableName, options.dataDir);
  let port = options.port ?? 8787;
  let internalPort = 0;
  // Read after listen() has settled the port and which addresses it serves.
  const settled = () => localEndpoints({ host, port, stage: STAGE, publicUrl, servedHosts: gateway.servedHosts });
  const endpoints: RelayEndpoints = {
    // API Gateway's URL shape: the stage is the path, and the only path that upgrades.
    get webSocketUrl() {
      return settled().webSocketUrl;
    },
    get httpUrl() {
      return settled().httpUrl;
    },
    get pageOrigins() {
      return settled().pageOrigins;
    },
  };
  const outbox = await createMailOutbox({ dir: options.outboxDir ?? (options.dataDir && join(options.dataDir, 'outbox')) });
  const internalUrl = () => `http://127.0.0.1:${internalPort}`;

  const managementRequestHandler =
    (options.connectionsPath ?? 'in-process') === 'in-process'
      ? new InProcessConnections((method, path, body) => gateway.manageConnection(method, path, body))
      : undefined;
  /**
   * One simulated container per function, as on Lambda: its own clients and caches (a frame route's
   * cache is not the sweeper's), and IAM as its role grants it (infra/local/iam.ts).
   */
  const depsFor = (name: string, spec: FunctionSpec): DepsResolver =>
    createDepsResolver({
      // Every client is there to build; IAM (onClient) decides what each function may do with it.
      clients: { dynamo: dynamoClient, management, ses },
      tableName,
      clock: options.clock,
      policy: { ...defaultPolicy, ...options.policy, allowedOrigins },
      log,
      dynamoEndpoint: dynamo.endpoint,
      // The handlers call back into this gateway exactly as they call API Gateway's @connections endpoint,
      // through the real SDK client; by default its last step, the HTTP exchange, is a function call.
      get callbackUrl() {
        return `${internalUrl()}/${STAGE}`;
      },
      managementRequestHandler,
      endpoints,
      // The same SES adapter as on AWS, sending to this gateway's SES-compatible outbox endpoint.
      sender: { from: LOCAL_SENDER },
      get sesEndpoint() {
        return `${internalUrl()}${OUTBOX_SES_PATH}`;
      },
      awsClientConfig: localAwsConfig,
      onClient: (service, client) => enforceGrants(name, options.grants?.[name] ?? spec, service, client),
      technicianIssuer: options.technicianIssuer,
    });
  const httpDeps = depsFor('http', otherFunctions.http);
  const httpHandler = httpRoute(() => ({ ...httpDeps(), console: options.console }));
  const ticketDeps = depsFor(otherFunctions.technicianTicket.file, otherFunctions.technicianTicket);
  const ticketHandler = technicianTicketRoute(() => ({ ...ticketDeps(), issuerKeys: cachedIssuerKeys }));
  const gateway = new LocalGateway({
    host,
    aliasHost: loopbackAlias(host, publicUrl),
    port,
    stage: STAGE,
    limits: { ...apiGatewayLimits, ...options.limits },
    chaos: options.chaos && createChaos(options.chaos),
    tap: options.tap,
    routes: await routeHandlers(depsFor),
    twoWayRoutes: new Set((Object.keys(webSocketRoutes) as WebSocketRouteKey[]).filter((routeKey) => !isOneWay(routeKey))),
    // The outbox lists emailed invitations (their links carry secrets): only for this machine, whatever --host.
    http: async (request, response) =>
      (request.method === 'GET' && isLoopbackClient(request) && (await outbox.handle(request, response))) ||
      // As on AWS, where the HTTP API routes this path to the ticket function and the rest to the http function.
      serveHttp(request, response, requestParts(request).url.pathname === TECHNICIAN_TICKET_PATH ? ticketHandler : httpHandler),
    internalHttp: (request, response) => outbox.handle(request, response),
  });
  try {
    ({ port, internalPort } = await gateway.listen());
  } catch (error) {
    await dynamo.close();
    throw error;
  }

  const runSweep = sweepJob(depsFor('sweep', otherFunctions.sweep));
  const sweep = async () => {
    await runSweep();
    await dynamo.deleteExpiredItems(Math.floor((options.clock ?? Date.now)() / 1000));
  };
  const sweepTimer = setInterval(() => {
    sweep().catch((error: Error) => log.error('sweep-failed', { error: error.name }));
  }, options.sweepIntervalMs ?? 30_000);
  sweepTimer.unref();

  const reachable = urlHost(isWildcardHost(host) ? '127.0.0.1' : host);
  return {
    wsUrl: `ws://${reachable}:${port}/${STAGE}`,
    httpUrl: `http://${reachable}:${port}`,
    endpoints: settled(),
    internalUrl: internalUrl(),
    gateway,
    dynamoEndpoint: dynamo.endpoint,
    tableName,
    outbox,
    counters: () => ({ dynamoRequests: dynamo.requestCount(), managementRequests: gateway.managementRequests }),
    sweep,
    async close() {
      clearInterval(sweepTimer);
      await gateway.close();
      await dynamo.close();
      await outbox.close();
    },
  };
}

/**
 * Each route of the route table served by the handler its Lambda entry builds (functions/lib/entries.ts): its
 * use case, through webSocketRoute, with the local wiring in place of the environment's.
 */
export async function routeHandlers(depsFor: (name: string, spec: FunctionSpec) => DepsResolver): Promise<Record<string, RouteHandler>> {
  const entries = (Object.entries(webSocketRoutes) as Array<[WebSocketRouteKey, WebSocketRouteSpec]>).map(async ([routeKey, spec]) => {
    const handler = webSocketRoute(routeKey, await useCaseOf(spec.useCase))(depsFor(functionNameOf(routeKey), spec));
    return [routeKey, handler as RouteHandler] as const;
  });
  return Object.fromEntries(await Promise.all(entries));
}

/** Serves plain HTTP requests with the same handler as the HTTP API on AWS, converting to its v2 event. */
async function serveHttp(request: IncomingMessage, response: ServerResponse, handler: HttpHandler): Promise<boolean> {
  const { url, headers, queryStringParameters } = requestParts(request);
  const method = request.method ?? 'GET';
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: request.socket.remoteAddress ?? '', userAgent: headers['user-agent'] ?? '' },
    },
  } as APIGatewayProxyEventV2;
  const result = await handler(event, {} as never);
  const body = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? '');
  response.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>).end(body);
  return true;
}

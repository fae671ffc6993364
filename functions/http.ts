import { fileURLToPath } from 'node:url';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { renderJoinPage, renderRelayInfo } from '../shared/server/join-page.js';
import { PROTOCOL_VERSION } from '../shared/core/messages.js';
import type { RelayDeps } from '../shared/server/use-cases/deps.js';
import { countJoinPageView } from '../shared/server/use-cases/join-page-views.js';
import { ASSETS_PATH, consoleSiteIfBuilt, type ConsoleSite } from '../web/server/console-site.js';
import { decodePathSegment } from './lib/path-segment.js';
import { dynamo } from './lib/clients.js';
import { httpDepsFromEnvironment } from './lib/wiring.js';

/**
 * What the HTTPS side needs: where the WebSocket API is, the web console when it was built, and the
 * join count (page views are counted with joins). It reads no session: nothing it serves depends on one.
 */
export type HttpDeps = Pick<RelayDeps, 'endpoints' | 'clock' | 'policy' | 'rateLimiter' | 'technicianIssuer'> & { console?: ConsoleSite };

type Result = APIGatewayProxyStructuredResultV2;

const json = (statusCode: number, body: unknown): Result => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

const JOIN_PATH = /^\/join\/([^/]+)$/;

async function route(deps: HttpDeps, method: string, path: string, sourceIp: string, acceptEncoding?: string): Promise<Result> {
  if (method !== 'GET') return json(405, { message: 'Method Not Allowed' });
  if (path === '/healthz') return json(200, { status: 'ok', protocolVersion: PROTOCOL_VERSION });
  if (path === '/relay.json') return renderRelayInfo(deps.endpoints, deps.technicianIssuer);
  const join = JOIN_PATH.exec(path);
  if (join) {
    if (decodePathSegment(join[1] ?? '') === undefined) return json(400, { message: 'Bad Request: the path is not valid percent-encoded UTF-8' });
    // One page for every nameplate, looked up nowhere: the console reads the nameplate from the path and
    // the secret from the fragment, and learns whether the invitation is open only by joining it.
    const refusal = await countJoinPageView(deps, sourceIp);
    if (refusal !== undefined) return renderJoinPage({ state: 'rate-limited', message: refusal });
    return deps.console ? deps.console.page(deps.endpoints.webSocketUrl) : renderJoinPage({ state: 'link' });
  }
  if (deps.console && (path === '/' || path === '/help')) return deps.console.page(deps.endpoints.webSocketUrl);
  // Only the sign-in page may reach the issuer (its discovery document and token endpoint).
  if (deps.console && path === '/technician') return deps.console.page(deps.endpoints.webSocketUrl, deps.technicianIssuer && new URL(deps.technicianIssuer.issuer).origin);
  const asset = path.startsWith(ASSETS_PATH) ? deps.console?.asset(path, acceptEncoding) : undefined;
  return asset ?? json(404, { message: 'Not Found' });
}

/** Two years: browsers then never load the console (which handles secrets) over plain HTTP. */
const HSTS = 'max-age=63072000';

/** Served over HTTPS (always on AWS), every answer tells browsers to keep to HTTPS. */
function withTransportSecurity(deps: HttpDeps, result: Result): Result {
  if (!deps.endpoints.httpUrl.startsWith('https:')) return result;
  return { ...result, headers: { ...result.headers, 'strict-transport-security': HSTS } };
}

/** The relay's HTTPS endpoint (HTTP API on AWS, the local gateway's HTTP side locally). */
export const httpRoute = (resolve: () => HttpDeps) =>
  middy<APIGatewayProxyEventV2, Result>().handler(async (event) => {
    const deps = resolve();
    return withTransportSecurity(deps, await route(deps, event.requestContext.http.method, event.rawPath, event.requestContext.http.sourceIp, event.headers?.['accept-encoding']));
  });

/** On Lambda the built console sits next to the bundle (infra/relay-stack.ts builds it into the asset); read once per container. */
const environmentDeps = httpDepsFromEnvironment({ dynamo });
let lambdaDeps: HttpDeps | undefined;
export const handler = httpRoute(() => (lambdaDeps ??= { ...environmentDeps(), console: consoleSiteIfBuilt(fileURLToPath(new URL('./console/', import.meta.url))) }));

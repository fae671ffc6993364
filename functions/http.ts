import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { renderJoinPage, renderRelayInfo } from '../shared/invitations/join-page.js';
import { PROTOCOL_VERSION } from '../shared/protocol/messages.js';
import type { RelayDeps } from '../shared/relay/deps.js';
import { invitationStatus } from '../shared/relay/invitation-status.js';
import { httpDepsFromEnvironment } from './lib/wiring.js';

/** What the HTTPS side reads: open invitations, and where the WebSocket API is. */
export type HttpDeps = Pick<RelayDeps, 'store' | 'endpoints' | 'clock' | 'policy'>;

type Result = APIGatewayProxyStructuredResultV2;

const json = (statusCode: number, body: unknown): Result => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

const JOIN_PATH = /^\/join\/([^/]+)$/;

async function route(deps: HttpDeps, method: string, path: string): Promise<Result> {
  if (method !== 'GET') return json(405, { message: 'Method Not Allowed' });
  if (path === '/healthz') return json(200, { status: 'ok', protocolVersion: PROTOCOL_VERSION });
  if (path === '/relay.json') return renderRelayInfo(deps.endpoints);
  const join = JOIN_PATH.exec(path);
  if (join) return renderJoinPage(await invitationStatus(deps, decodeURIComponent(join[1] ?? '')));
  return json(404, { message: 'Not Found' });
}

/** The relay's HTTPS endpoint (HTTP API on AWS, the local gateway's HTTP side locally). */
export const httpRoute = (resolve: () => HttpDeps) =>
  middy<APIGatewayProxyEventV2, Result>().handler((event) => route(resolve(), event.requestContext.http.method, event.rawPath));

export const handler = httpRoute(httpDepsFromEnvironment());

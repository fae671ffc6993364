import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { PROTOCOL_VERSION } from '../shared/protocol/messages.js';

type HttpRoute = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

const routes: Record<string, HttpRoute> = {
  'GET /healthz': async () => json(200, { status: 'ok', protocolVersion: PROTOCOL_VERSION }),
};

/** The relay's HTTPS endpoint (HTTP API on AWS, the local gateway's HTTP side locally). */
export const httpRoute = () =>
  middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler(async (event) => {
    const route = routes[`${event.requestContext.http.method} ${event.rawPath}`];
    return route ? route(event) : json(404, { message: 'Not Found' });
  });

export const handler = httpRoute();

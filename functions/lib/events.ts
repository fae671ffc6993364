import type { APIGatewayEventWebsocketRequestContextV2 } from 'aws-lambda';

/** The WebSocket proxy event as API Gateway sends it (the typings omit `identity` and the $connect headers). */
export interface WebSocketEvent {
  requestContext: APIGatewayEventWebsocketRequestContextV2 & {
    identity: { sourceIp: string; userAgent?: string };
  };
  body?: string;
  isBase64Encoded: boolean;
  headers?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
}

export interface WebSocketResult {
  statusCode: number;
  body?: string;
}

import type { WebSocketEvent } from '../../functions/lib/events.js';

/** A WebSocket proxy event shaped like API Gateway's. */
export function webSocketEvent(routeKey: string, connectionId: string, body?: unknown): WebSocketEvent {
  const eventType = routeKey === '$connect' ? 'CONNECT' : routeKey === '$disconnect' ? 'DISCONNECT' : 'MESSAGE';
  return {
    requestContext: {
      routeKey,
      eventType,
      messageId: 'm',
      extendedRequestId: 'x',
      requestTime: '20/Nov/2026:12:00:00 +0000',
      messageDirection: 'IN',
      stage: 'live',
      connectedAt: 0,
      requestTimeEpoch: 0,
      requestId: 'r',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      connectionId,
      apiId: 'abc123',
      identity: { sourceIp: '203.0.113.7' },
    },
    isBase64Encoded: false,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  };
}

import middy, { type MiddlewareObj } from '@middy/core';
import { parseClientMessage } from '../../shared/protocol/parse.js';
import type { ClientAction, ClientMessage, ServerMessage } from '../../shared/protocol/messages.js';
import type { Caller, RelayDeps } from '../../shared/relay/deps.js';
import { RelayError } from '../../shared/relay/errors.js';
import type { WebSocketEvent, WebSocketResult } from './events.js';
import type { DepsResolver } from './wiring.js';

export const callerOf = (event: WebSocketEvent): Caller => ({
  connectionId: event.requestContext.connectionId,
  sourceIp: event.requestContext.identity.sourceIp,
});

const reply = (message: ServerMessage | undefined): WebSocketResult =>
  message ? { statusCode: 200, body: JSON.stringify(message) } : { statusCode: 200 };

/**
 * Turns every failure into a typed error message for the caller (the route's response), so the
 * connection stays usable. On $connect there is no one to read a message: a failure refuses the
 * connection instead. Unexpected errors are logged with their name only and reported as internal.
 */
function errorsToCaller(resolve: DepsResolver): MiddlewareObj<WebSocketEvent, WebSocketResult> {
  return {
    onError: async (request) => {
      const { error, event } = request;
      const expected = error instanceof RelayError;
      if (!expected) resolve(event).log.error('handler-failed', { route: event.requestContext.routeKey, error: error?.name });
      if (event.requestContext.eventType === 'CONNECT') {
        request.response = { statusCode: expected ? 403 : 500 };
        return;
      }
      const action = event.requestContext.routeKey.startsWith('$') ? undefined : event.requestContext.routeKey;
      request.response = reply(
        expected
          ? { type: 'error', code: error.code, message: error.message, requestAction: action, endReason: error.endReason, invitationKind: error.invitationKind }
          : { type: 'error', code: 'internal', message: 'the relay failed to handle this message; try again', requestAction: action },
      );
    },
  };
}

/** Every route is middy plus typed errors; a route only says what to do with its event. */
const webSocketRoute =
  (run: (event: WebSocketEvent, resolve: DepsResolver) => Promise<WebSocketResult>) => (resolve: DepsResolver) =>
    middy<WebSocketEvent, WebSocketResult>()
      .use(errorsToCaller(resolve))
      .handler((event) => run(event, resolve));

type RequestOf<A extends ClientAction> = Extract<ClientMessage, { action: A }>;

/** A route for one client action: parse and validate the body, run the use case, reply. */
export function messageRoute<A extends ClientAction>(
  action: A,
  useCase: (deps: RelayDeps, caller: Caller, request: RequestOf<A>) => Promise<ServerMessage | undefined>,
) {
  return webSocketRoute(async (event, resolve) => {
    const request = parseClientMessage(event.body);
    if (request.action !== action) {
      throw new RelayError('invalid-request', `this route handles "${action}", not "${request.action}"`);
    }
    return reply(await useCase(resolve(event), callerOf(event), request as RequestOf<A>));
  });
}

/** $connect / $disconnect: no body; a $connect failure refuses the connection. */
export function lifecycleRoute(useCase: (deps: RelayDeps, caller: Caller) => Promise<void>) {
  return webSocketRoute(async (event, resolve) => {
    await useCase(resolve(event), callerOf(event));
    return { statusCode: 200 };
  });
}

/** $default: whatever matched no route is malformed or names an unknown action; tell the caller which. */
export function fallbackRoute() {
  return webSocketRoute(async (event) => {
    const request = parseClientMessage(event.body);
    throw new RelayError('unknown-action', `action "${request.action}" is not routed by this relay`);
  });
}

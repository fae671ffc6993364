import middy, { type MiddlewareObj } from '@middy/core';
import { isAllowedBrowserOrigin } from '../../shared/server/config/policy.js';
import { parseClientMessage } from '../../shared/core/parse.js';
import type { ClientAction, ClientMessage, ServerMessage } from '../../shared/core/messages.js';
import type { Caller, RelayDeps } from '../../shared/server/use-cases/deps.js';
import { RelayError } from '../../shared/server/use-cases/errors.js';
import type { WebSocketEvent, WebSocketResult } from './events.js';
import type { WebSocketRouteKey } from './routes.js';
import type { DepsResolver } from './wiring.js';

export const callerOf = (event: WebSocketEvent): Caller => ({
  connectionId: event.requestContext.connectionId,
  sourceIp: event.requestContext.identity.sourceIp,
});

/**
 * Says `message` to the caller. On a two-way route (one with a route response) it is the result's body, which
 * API Gateway sends whatever the status code; a result without a body would reach the client as an empty
 * message, so a two-way route answers every message. A one-way route's result goes nowhere: what it has to
 * say (a notice, a refusal) is posted through @connections, and a request it handled in silence costs no
 * message back (the frame route: no extra message per forwarded frame).
 */
async function answer(event: WebSocketEvent, resolve: DepsResolver, message: ServerMessage | undefined, oneWay: boolean): Promise<WebSocketResult> {
  if (!oneWay) {
    if (!message) throw new Error(`the ${event.requestContext.routeKey} route is two-way but its use case gave no answer`);
    return { statusCode: 200, body: JSON.stringify(message) };
  }
  // $connect answers with its status code, and after $disconnect there is no one to tell.
  if (message && event.requestContext.eventType === 'MESSAGE') await resolve(event).notifier.post(event.requestContext.connectionId, message);
  return { statusCode: 200 };
}

/**
 * Turns every failure into a typed error message for the caller, so the connection stays usable. On $connect
 * there is no one to read a message: a failure refuses the connection instead. Unexpected errors are logged
 * with their name only and reported as internal.
 */
function errorsToCaller(resolve: DepsResolver, oneWay: boolean): MiddlewareObj<WebSocketEvent, WebSocketResult> {
  return {
    onError: async (request) => {
      const { error, event } = request;
      const expected = error instanceof RelayError;
      const route = event.requestContext.routeKey;
      if (!expected) resolve(event).log.error('handler-failed', { route, error: error?.name });
      if (event.requestContext.eventType === 'CONNECT') {
        request.response = { statusCode: expected ? 403 : 500 };
        return;
      }
      const action = route.startsWith('$') ? undefined : route;
      const refusal: ServerMessage = expected
        ? { type: 'error', code: error.code, message: error.message, requestAction: action, endReason: error.endReason, invitationKind: error.invitationKind }
        : { type: 'error', code: 'internal', message: 'the relay failed to handle this message; try again', requestAction: action };
      try {
        request.response = await answer(event, resolve, refusal, oneWay);
      } catch (failure) {
        // Telling the caller failed too (@connections unreachable): nothing more to do than say so in the log.
        resolve(event).log.error('refusal-undelivered', { route, error: (failure as Error)?.name });
        request.response = { statusCode: 500 };
      }
    },
  };
}

/** Every route is middy plus typed errors; a route only says what to do with its event, and whether it is one-way. */
const routeWith =
  (run: (event: WebSocketEvent, resolve: DepsResolver) => Promise<ServerMessage | undefined>, oneWay: boolean) => (resolve: DepsResolver) =>
    middy<WebSocketEvent, WebSocketResult>()
      .use(errorsToCaller(resolve, oneWay))
      .handler(async (event) => answer(event, resolve, await run(event, resolve), oneWay));

type RequestOf<A extends ClientAction> = Extract<ClientMessage, { action: A }>;
type LifecycleUseCase = (deps: RelayDeps, caller: Caller) => Promise<void>;

/** A use case as the route table names it (functions/lib/routes.ts `useCase`): lifecycle ones take no request. */
export type RouteUseCase = (deps: RelayDeps, caller: Caller, request: never) => Promise<ServerMessage | undefined | void>;

/** $connect / $disconnect: no body; a $connect failure refuses the connection. */
function lifecycleRoute(useCase: LifecycleUseCase) {
  return routeWith(async (event, resolve) => {
    await useCase(resolve(event), callerOf(event));
    return undefined;
  }, true);
}

/**
 * Browsers name the page that opens a WebSocket (`Origin`), and only the relay's own web console and the
 * origins its operator allows (policy.allowedOrigins) may: another site cannot use its visitors' browsers as
 * relay clients. The CLI and the SDK in Node send no Origin. The refusal is a 403 on the upgrade.
 */
function onlyAllowedPages(resolve: DepsResolver): MiddlewareObj<WebSocketEvent, WebSocketResult> {
  return {
    before: ({ event }) => {
      const origin = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'origin')?.[1];
      if (origin === undefined) return;
      const { endpoints, policy } = resolve(event);
      if (!isAllowedBrowserOrigin(origin, endpoints.httpUrl, [...(endpoints.pageOrigins ?? []), ...policy.allowedOrigins])) {
        throw new RelayError('invalid-request', 'browsers may connect only from this relay’s own pages and the origins its operator allows');
      }
    },
  };
}

// The four kinds of WebSocket route. Each takes the route's key, its use case and whether it is one-way (the
// route table's `oneWay`), so a route's Lambda entry (functions/lib/entries.ts) imports and calls only its own
// kind: no bundle carries the others' code.

/** $connect: the browser origin check, then the use case; a failure refuses the connection. */
export const connectRoute = (_routeKey: WebSocketRouteKey, useCase?: RouteUseCase, _oneWay = true) => (resolve: DepsResolver) =>
  lifecycleRoute(useCase as LifecycleUseCase)(resolve).use(onlyAllowedPages(resolve));

/** $disconnect: the use case, for a connection that is already gone. */
export const disconnectRoute = (_routeKey: WebSocketRouteKey, useCase?: RouteUseCase, _oneWay = true) => lifecycleRoute(useCase as LifecycleUseCase);

/** $default: whatever matched no route is malformed or names an unknown action; tell the caller which. */
export const fallbackRoute = (_routeKey?: WebSocketRouteKey, _useCase?: RouteUseCase, oneWay = false) =>
  routeWith(async (event) => {
    const request = parseClientMessage(event.body);
    throw new RelayError('unknown-action', `action "${request.action}" is not routed by this relay`);
  }, oneWay);

/** A client action: parse and validate the body, run the use case, answer. */
export const actionRoute = (routeKey: WebSocketRouteKey, useCase?: RouteUseCase, oneWay = false) => {
  const action = routeKey as ClientAction;
  return routeWith(async (event, resolve) => {
    const request = parseClientMessage(event.body);
    if (request.action !== action) {
      throw new RelayError('invalid-request', `this route handles "${action}", not "${request.action}"`);
    }
    const run = useCase as (deps: RelayDeps, caller: Caller, request: RequestOf<typeof action>) => Promise<ServerMessage | undefined>;
    return run(resolve(event), callerOf(event), request as RequestOf<typeof action>);
  }, oneWay);
};

/** Which kind serves a route key. */
export function routeKindOf(routeKey: WebSocketRouteKey): 'connectRoute' | 'disconnectRoute' | 'fallbackRoute' | 'actionRoute' {
  if (routeKey === '$connect') return 'connectRoute';
  if (routeKey === '$disconnect') return 'disconnectRoute';
  if (routeKey === '$default') return 'fallbackRoute';
  return 'actionRoute';
}

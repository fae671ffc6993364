import type { MiddlewareObj } from '@middy/core';
import { isAllowedBrowserOrigin } from '../shared/config/policy.js';
import { openConnection } from '../shared/relay/connections.js';
import { RelayError } from '../shared/relay/errors.js';
import type { WebSocketEvent, WebSocketResult } from './lib/events.js';
import { lifecycleRoute } from './lib/ws-handler.js';
import { dynamo } from './lib/clients.js';
import { depsFromEnvironment, type DepsResolver } from './lib/wiring.js';

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

export const connectRoute = (resolve: DepsResolver) => lifecycleRoute(openConnection)(resolve).use(onlyAllowedPages(resolve));
export const handler = connectRoute(depsFromEnvironment({ dynamo }));

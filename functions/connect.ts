import type { MiddlewareObj } from '@middy/core';
import { openConnection } from '../shared/relay/connections.js';
import { RelayError } from '../shared/relay/errors.js';
import type { WebSocketEvent, WebSocketResult } from './lib/events.js';
import { lifecycleRoute } from './lib/ws-handler.js';
import { depsFromEnvironment, type DepsResolver } from './lib/wiring.js';

/**
 * Browsers name the page that opens a WebSocket (`Origin`), and only the relay's own web console may:
 * another site cannot use its visitors' browsers as relay clients. The CLI and the SDK in Node send
 * no Origin. The refusal is a 403 on the upgrade.
 */
function onlyTheRelaysOwnPages(resolve: DepsResolver): MiddlewareObj<WebSocketEvent, WebSocketResult> {
  return {
    before: ({ event }) => {
      const origin = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'origin')?.[1];
      if (origin !== undefined && origin !== new URL(resolve(event).endpoints.httpUrl).origin) {
        throw new RelayError('invalid-request', 'browsers may connect only from this relay’s own pages');
      }
    },
  };
}

export const connectRoute = (resolve: DepsResolver) => lifecycleRoute(openConnection)(resolve).use(onlyTheRelaysOwnPages(resolve));
export const handler = connectRoute(depsFromEnvironment());

import { relayFrame } from '../shared/relay/relay-frame.js';
import { messageRoute } from './lib/ws-handler.js';
import { dynamo, management } from './lib/clients.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const frameRoute = messageRoute('frame', (deps, caller, request) => relayFrame(deps, caller, request.data));
export const handler = frameRoute(depsFromEnvironment({ dynamo, management }));

import { recordEvent } from '../shared/relay/consent.js';
import { messageRoute } from './lib/ws-handler.js';
import { dynamo, management } from './lib/clients.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const recordEventRoute = messageRoute('recordEvent', recordEvent);
export const handler = recordEventRoute(depsFromEnvironment({ dynamo, management }));

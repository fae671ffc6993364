import { approveSession } from '../shared/relay/consent.js';
import { messageRoute } from './lib/ws-handler.js';
import { dynamo, management } from './lib/clients.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const approveSessionRoute = messageRoute('approveSession', approveSession);
export const handler = approveSessionRoute(depsFromEnvironment({ dynamo, management }));

import { reportFailedAttempt } from '../shared/relay/consent.js';
import { messageRoute } from './lib/ws-handler.js';
import { dynamo, management } from './lib/clients.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const reportFailedAttemptRoute = messageRoute('reportFailedAttempt', reportFailedAttempt);
export const handler = reportFailedAttemptRoute(depsFromEnvironment({ dynamo, management }));

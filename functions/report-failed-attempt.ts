import { reportFailedAttempt } from '../shared/relay/consent.js';
import { messageRoute } from './lib/ws-handler.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const reportFailedAttemptRoute = messageRoute('reportFailedAttempt', reportFailedAttempt);
export const handler = reportFailedAttemptRoute(depsFromEnvironment());

import { sweepOverdueSessions } from '../shared/server/use-cases/sweep.js';
import { dynamo, management } from './lib/clients.js';
import { depsFromEnvironment, type DepsResolver } from './lib/wiring.js';

/** Scheduled (every minute): ends idle, expired and abandoned sessions and tells their participants. */
export const sweepJob = (resolve: DepsResolver) => async () => {
  const deps = resolve();
  const ended = await sweepOverdueSessions(deps);
  if (ended > 0) deps.log.info('sweep-finished', { ended });
  return { ended };
};
export const handler = sweepJob(depsFromEnvironment({ dynamo, management }));

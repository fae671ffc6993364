import { afterAll, beforeAll } from 'vitest';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../infra/local/runtime.js';

/** Starts a local runtime on a free port for the current test file and stops it afterwards. */
export function useLocalRuntime(options: LocalRuntimeOptions = {}): () => LocalRuntime {
  let runtime: LocalRuntime | undefined;
  beforeAll(async () => {
    runtime = await startLocalRuntime({ port: 0, ...options });
  });
  afterAll(async () => {
    await runtime?.close();
  });
  return () => {
    if (!runtime) throw new Error('the local runtime has not started');
    return runtime;
  };
}

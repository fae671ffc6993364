// `assist … --json` processes for a test file, killed after each test, and the checks of how they ended.
import { afterEach, expect } from 'vitest';
import { AssistProcess, type AssistProcessOptions } from './assist-process.js';

export { ASSIST_BIN, AssistProcess, type AssistProcessOptions, type JsonEvent } from './assist-process.js';

export const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

export interface AssistLauncher {
  /** `assist <args> --json --relay <the relay>`. */
  assist(...args: string[]): AssistProcess;
  /** `assist <args>`, exactly as given. */
  start(args: string[], options?: AssistProcessOptions): AssistProcess;
}

/** For a test file: starts `assist` processes against `relay()`; whatever still runs after a test is killed. */
export function useAssist(relay: () => string): AssistLauncher {
  const running: AssistProcess[] = [];
  afterEach(() => {
    for (const process of running.splice(0)) process.kill();
  });
  const start = (args: string[], options?: AssistProcessOptions) => {
    const process = new AssistProcess(args, options);
    running.push(process);
    return process;
  };
  return { assist: (...args) => start([...args, '--json', '--relay', relay()]), start };
}

/** The process exited with `code` and wrote nothing but JSON events to stdout. */
export async function expectCleanExit(process: AssistProcess, code: number): Promise<void> {
  expect(await process.exitCode()).toBe(code);
  expect(process.strayLines).toEqual([]);
}

/** The session is over and the person's program runs on: the person hangs it up, and the command exits 0. */
export async function hangUpAfterEnd(agent: AssistProcess): Promise<void> {
  await agent.next('still-running');
  agent.send({ cmd: 'hang-up' });
  await agent.next('program-exited');
  await expectCleanExit(agent, 0);
}

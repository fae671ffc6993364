// The local relay in a process of its own, for benchmarks whose load would otherwise share its thread:
// started with fork(), told its options over IPC, it answers with its URLs, then with its CPU time when
// asked, and stops when its parent disconnects.
import { readFileSync } from 'node:fs';
import { startLocalRuntime, type LocalRuntimeOptions } from '../infra/local/runtime.js';

export type RelayProcessRequest = { type: 'start'; options: LocalRuntimeOptions } | { type: 'cpu' };
export type RelayProcessReply =
  | { type: 'started'; wsUrl: string; httpUrl: string }
  /**
   * CPU time of the whole process so far (every thread), of its main thread (the gateway's), and the
   * @connections posts (relayed frames and replies) it served.
   */
  | { type: 'cpu'; microseconds: number; gatewayMicroseconds: number; posts: number };

const reply = (message: RelayProcessReply) => process.send!(message);

let posts = () => 0;

/** Linux counts a thread's CPU time in ticks of 1/100 s (USER_HZ). */
const TICK_MICROSECONDS = 10_000;

/** The main thread's CPU time, from Linux's per-thread accounting (NaN elsewhere): what the gateway's thread spends. */
function mainThreadMicroseconds(): number {
  try {
    // After the command name in parentheses: state is field 3 of stat, utime and stime fields 14 and 15.
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MICROSECONDS;
  } catch {
    return NaN;
  }
}

process.on('message', (request: RelayProcessRequest) => {
  if (request.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    reply({ type: 'cpu', microseconds: user + system, gatewayMicroseconds: mainThreadMicroseconds(), posts: posts() });
    return;
  }
  void startLocalRuntime(request.options).then((runtime) => {
    posts = () => runtime.counters().managementRequests;
    process.once('disconnect', () => void runtime.close().then(() => process.exit(0)));
    reply({ type: 'started', wsUrl: runtime.wsUrl, httpUrl: runtime.httpUrl });
  });
});

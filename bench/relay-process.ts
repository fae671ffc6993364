// The local relay in a process of its own, for benchmarks whose load would otherwise share its thread:
// started with fork(), told its options over IPC, it answers with its URLs, then with its CPU time when
// asked, and stops when its parent disconnects.
import { startLocalRuntime, type LocalRuntimeOptions } from '../infra/local/runtime.js';

export type RelayProcessRequest = { type: 'start'; options: LocalRuntimeOptions } | { type: 'cpu' };
export type RelayProcessReply =
  | { type: 'started'; wsUrl: string; httpUrl: string }
  /** CPU time of the whole process so far, and the @connections posts (relayed frames and replies) it served. */
  | { type: 'cpu'; microseconds: number; posts: number };

const reply = (message: RelayProcessReply) => process.send!(message);

let posts = () => 0;

process.on('message', (request: RelayProcessRequest) => {
  if (request.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    reply({ type: 'cpu', microseconds: user + system, posts: posts() });
    return;
  }
  void startLocalRuntime(request.options).then((runtime) => {
    posts = () => runtime.counters().managementRequests;
    process.once('disconnect', () => void runtime.close().then(() => process.exit(0)));
    reply({ type: 'started', wsUrl: runtime.wsUrl, httpUrl: runtime.httpUrl });
  });
});

import { benchmarkRelay } from './relay-throughput.js';

// Each section measures its own baseline in the same run, so figures compare on this machine as it is now.
const sections: Array<[string, () => Promise<string>]> = [['relay', benchmarkRelay]];

for (const [name, run] of sections) {
  const started = performance.now();
  console.log(`\n== ${name}`);
  console.log(await run());
  console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

import { bareNodeStartMs, measureBundleSizes } from './bundle-sizes.js';
import { benchmarkCrypto } from './crypto.js';
import { benchmarkDesktop } from './desktop.js';
import { benchmarkRelay } from './relay-throughput.js';
import { formatTable } from './report.js';
import { benchmarkSessionCost } from './session-cost.js';
import { benchmarkCapacity } from './capacity.js';

async function bundleSizes(): Promise<string> {
  const sizes = (await measureBundleSizes()).sort((a, b) => b.bytes - a.bytes);
  const bareMs = bareNodeStartMs();
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  const ms = (value: number) => `${value.toFixed(0)} ms`;
  const rows = sizes.map(({ name, bytes, gzipBytes, coldLoadMs }) => [name, kb(bytes), kb(gzipBytes), ms(coldLoadMs), `${coldLoadMs >= bareMs ? '+' : '−'}${ms(Math.abs(coldLoadMs - bareMs))}`]);
  return [
    `Lambda bundles: size, and the median time a fresh node takes to load each and exit (a bare node start: ${ms(bareMs)}, same run)`,
    formatTable(['function', 'minified', 'gzip', 'cold load', 'over bare node'], rows),
  ].join('\n');
}

// Each section measures its own baseline in the same run, so figures compare on this machine as it is now.
const sections: Array<[string, () => Promise<string>]> = [
  ['relay', benchmarkRelay],
  ['session cost', benchmarkSessionCost],
  ['capacity', benchmarkCapacity],
  ['end-to-end encryption', benchmarkCrypto],
  ['bundles', bundleSizes],
  ['desktop', benchmarkDesktop],
];

// `npm run bench -- desktop relay` runs only the sections named.
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !sections.some(([section]) => section === name));
if (unknown.length) throw new Error(`no benchmark section ${unknown.map((name) => `"${name}"`).join(', ')}: the sections are ${sections.map(([name]) => name).join(', ')}`);
for (const [name, run] of sections.filter(([section]) => wanted.length === 0 || wanted.includes(section))) {
  const started = performance.now();
  console.log(`\n== ${name}`);
  console.log(await run());
  console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

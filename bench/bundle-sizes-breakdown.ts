// Where each Lambda bundle's bytes go, by package (the SDK's core by submodule) and the relay's own folders:
// `npx tsx bench/bundle-sizes-breakdown.ts [function…]`. `npm run bench` prints the totals.
import { measureBundleSizes } from './bundle-sizes.js';
import { formatTable } from './report.js';

const only = process.argv.slice(2);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

for (const { name, bytes, bytesBySource } of await measureBundleSizes()) {
  if (only.length > 0 && !only.includes(name)) continue;
  const rows = Object.entries(bytesBySource)
    .sort(([, a], [, b]) => b - a)
    .map(([source, sourceBytes]) => [source, kb(sourceBytes), `${((100 * sourceBytes) / bytes).toFixed(1)} %`]);
  console.log(`\n${name}: ${kb(bytes)}`);
  console.log(formatTable(['source', 'bytes', 'share'], rows));
}

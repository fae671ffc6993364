import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { esbuildOptions, functionEntries } from '../infra/constructs/bundling.js';

// Odd, for a median; each run is a whole process start, so the machine's load shows: compare within a run.
const LOAD_RUNS = 9;

/** Median wall time of a fresh `node` that runs `script` (an ES module) and exits. */
function medianNodeMs(script: string): number {
  const times: number[] = [];
  for (let run = 0; run < LOAD_RUNS; run++) {
    const started = process.hrtime.bigint();
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

/** A bare `node` start, measured the same way in the same run: what every cold load includes. */
export const bareNodeStartMs = () => medianNodeMs('');

export interface BundleSize {
  name: string;
  bytes: number;
  gzipBytes: number;
  /** Median time for a fresh Node process to load the bundle (import it, as Lambda's runtime does) and exit. */
  coldLoadMs: number;
  /** Bytes each package (or the relay's own code, by top folder) leaves in the bundle, from esbuild's metafile. */
  bytesBySource: Record<string, number>;
}

/** `node_modules/@smithy/core/dist-es/submodules/serde/…` → `@smithy/core/serde`; `shared/server/use-cases/x.ts` → `shared`. */
function sourceOf(input: string): string {
  const modulePath = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(input);
  if (!modulePath) return input.split('/')[0]!;
  const [, name, rest] = modulePath;
  const submodule = /^dist-es\/submodules\/([^/]+)\//.exec(rest!)?.[1];
  return submodule ? `${name}/${submodule}` : name!;
}

/**
 * Builds every handler exactly as the CDK stack does and reports its minified and gzipped size and its cold
 * load time: what a cold start pays for (the old ≤ 150 KB target is retired: with the real SDK clients it cannot be met).
 */
export async function measureBundleSizes(): Promise<BundleSize[]> {
  const outDir = await mkdtemp(join(tmpdir(), 'assist-relay-bundles-'));
  try {
    const built = await Promise.all(
      functionEntries().map(async (entry) => {
        const { name } = entry;
        const outfile = join(outDir, name, 'index.mjs');
        const { metafile } = await build({ ...esbuildOptions(entry, outfile), metafile: true });
        const output = Object.entries(metafile!.outputs).find(([path]) => path.endsWith('index.mjs'))![1];
        const bytesBySource: Record<string, number> = {};
        for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
          bytesBySource[sourceOf(input)] = (bytesBySource[sourceOf(input)] ?? 0) + bytesInOutput;
        }
        const code = await readFile(outfile);
        return { name, outfile, bytes: code.byteLength, gzipBytes: gzipSync(code).byteLength, bytesBySource };
      }),
    );
    // One at a time, after every build: load times measured side by side, not against each other.
    return built.map(({ outfile, ...size }) => ({ ...size, coldLoadMs: medianNodeMs(`await import(${JSON.stringify(pathToFileURL(outfile).href)});`) }));
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

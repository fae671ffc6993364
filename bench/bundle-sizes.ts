import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { esbuildOptions, handlerEntries } from '../infra/constructs/bundling.js';

/** Lambda bundles are expected to stay under this (minified, before zip). */
export const bundleSizeTargetBytes = 150 * 1024;

export interface BundleSize {
  name: string;
  bytes: number;
  gzipBytes: number;
  /** Bytes each package (or the relay's own code, by top folder) leaves in the bundle, from esbuild's metafile. */
  bytesBySource: Record<string, number>;
}

/** `node_modules/@smithy/core/dist-es/submodules/serde/…` → `@smithy/core/serde`; `shared/relay/x.ts` → `shared`. */
function sourceOf(input: string): string {
  const modulePath = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(input);
  if (!modulePath) return input.split('/')[0]!;
  const [, name, rest] = modulePath;
  const submodule = /^dist-es\/submodules\/([^/]+)\//.exec(rest!)?.[1];
  return submodule ? `${name}/${submodule}` : name!;
}

/** Builds every handler exactly as the CDK stack does and reports its minified and gzipped size. */
export async function measureBundleSizes(): Promise<BundleSize[]> {
  const outDir = await mkdtemp(join(tmpdir(), 'assist-relay-bundles-'));
  try {
    return await Promise.all(
      handlerEntries().map(async ({ name, entry }) => {
        const outfile = join(outDir, name, 'index.mjs');
        const { metafile } = await build({ ...esbuildOptions(entry, outfile), metafile: true });
        const output = Object.entries(metafile!.outputs).find(([path]) => path.endsWith('index.mjs'))![1];
        const bytesBySource: Record<string, number> = {};
        for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
          bytesBySource[sourceOf(input)] = (bytesBySource[sourceOf(input)] ?? 0) + bytesInOutput;
        }
        const code = await readFile(outfile);
        return { name, bytes: code.byteLength, gzipBytes: gzipSync(code).byteLength, bytesBySource };
      }),
    );
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

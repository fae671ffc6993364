import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { esbuildOptions, handlerEntries } from '../infra/constructs/bundling.js';

/** Lambda bundles are expected to stay under this (minified, before zip). */
export const bundleSizeTargetBytes = 150 * 1024;

/** Builds every handler exactly as the CDK stack does and reports its minified and gzipped size. */
export async function measureBundleSizes(): Promise<Array<{ name: string; bytes: number; gzipBytes: number }>> {
  const outDir = await mkdtemp(join(tmpdir(), 'assist-relay-bundles-'));
  try {
    return await Promise.all(
      handlerEntries().map(async ({ name, entry }) => {
        const outfile = join(outDir, name, 'index.mjs');
        await build(esbuildOptions(entry, outfile));
        const code = await readFile(outfile);
        return { name, bytes: code.byteLength, gzipBytes: gzipSync(code).byteLength };
      }),
    );
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

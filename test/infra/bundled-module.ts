import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { esbuildOptions, projectRoot } from '../../infra/constructs/bundling.js';

/**
 * Builds one module with the Lambda bundling options (so its SDK imports resolve to the stand-ins in
 * infra/lambda-sdk/, and theirs to the real modules) and imports the result. Call `remove` when done.
 */
export async function importBundled<T>(entry: string): Promise<{ module: T; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'assist-relay-module-'));
  const outfile = join(dir, 'index.mjs');
  await build(esbuildOptions(join(projectRoot, entry), outfile));
  return { module: (await import(pathToFileURL(outfile).href)) as T, remove: () => rm(dir, { recursive: true, force: true }) };
}

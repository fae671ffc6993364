import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync, type BuildOptions } from 'esbuild';
import type { FunctionEntry } from '../../functions/lib/entries.js';

export { functionEntries, type FunctionEntry } from '../../functions/lib/entries.js';

/** The repository root, where esbuild runs. */
export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * SDK modules bundled as stand-ins that keep only what the relay's clients run on Lambda; each stand-in says
 * why that is safe and what it saves. Aliases work on package names only, so a stand-in replaces a whole
 * (sub)module; one that extends the real module imports it as `sdk-original:<module>`.
 */
const sdkStandIns: Record<string, string> = {
  // Lambda's credentials are environment variables, so the SDK's provider chain is swapped for a reader of them.
  '@aws-sdk/credential-provider-node': 'functions/lib/env-credentials.ts',
  '@aws-sdk/middleware-endpoint-discovery': 'infra/lambda-sdk/no-endpoint-discovery.ts',
  '@smithy/core/checksum': 'infra/lambda-sdk/checksum.ts',
  '@smithy/core/config': 'infra/lambda-sdk/config.ts',
  '@smithy/core/event-streams': 'infra/lambda-sdk/no-event-streams.ts',
};

/** esbuild aliases (paths relative to the project root, where esbuild runs): each module to its stand-in, and back. */
export const sdkAliases: Record<string, string> = Object.fromEntries(
  Object.entries(sdkStandIns).flatMap(([module, standIn]) => [
    [module, `./${standIn}`],
    [`sdk-original:${module}`, module],
  ]),
);

/**
 * How every function is bundled: the stack runs it (bundleFunction), and tests and benchmarks build with the
 * same options, so what they check is what deploys. The esbuild in node_modules does the work: no Docker.
 */
export function esbuildOptions(entry: FunctionEntry | string, outfile: string): BuildOptions {
  const input: BuildOptions =
    typeof entry === 'string'
      ? { entryPoints: [entry] }
      : 'file' in entry
        ? { entryPoints: [entry.file] }
        : // A route's entry exists only as source derived from the route table (functions/lib/entries.ts).
          { stdin: { contents: entry.source, sourcefile: entry.sourcefile, resolveDir: entry.resolveDir, loader: 'ts' } };
  return {
    ...input,
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    sourcemap: true,
    // Stack traces need only the mappings; leaving the sources out keeps the asset small.
    sourcesContent: false,
    // Prefer packages' ESM builds: they tree-shake better than their CommonJS ones.
    mainFields: ['module', 'main'],
    // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    // Everything is bundled, the AWS SDK too: pinned versions, and one file to load at cold start.
    external: [],
    alias: sdkAliases,
    absWorkingDir: projectRoot,
    logLevel: 'warning',
  };
}

/** Bundles one function into `outputDir/index.mjs` (synchronously: CDK's local bundling is synchronous). */
export function bundleFunction(entry: FunctionEntry, outputDir: string): void {
  buildSync(esbuildOptions(entry, join(outputDir, 'index.mjs')));
}

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogLevel, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/** The repository root (the NodejsFunction project root) and the folder of Lambda handlers. */
export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
export const functionsDir = join(projectRoot, 'functions');

/** Every top-level file in functions/ is one Lambda handler (helpers live in functions/lib/). */
export function handlerEntries(): Array<{ name: string; entry: string }> {
  return readdirSync(functionsDir)
    .filter((file) => file.endsWith('.ts'))
    .sort()
    .map((file) => ({ name: file.slice(0, -'.ts'.length), entry: join(functionsDir, file) }));
}

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
 * How every function is bundled. The stack hands this to NodejsFunction (which runs the local esbuild),
 * and tests and benchmarks derive their esbuild options from it, so what they check is what deploys.
 */
export const relayBundling = {
  format: OutputFormat.ESM,
  target: 'node22',
  minify: true,
  sourceMap: true,
  // Stack traces need only the mappings; leaving the sources out keeps the asset small.
  sourcesContent: false,
  // Pinned SDK versions, and one file to load at cold start instead of the runtime's many.
  bundleAwsSDK: true,
  // Prefer packages' ESM builds: they tree-shake better than their CommonJS ones.
  mainFields: ['module', 'main'],
  // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  esbuildArgs: Object.fromEntries(Object.entries(sdkAliases).map(([from, to]) => [`--alias:${from}`, to])),
  // No Docker here or in CI: the esbuild in node_modules does the work.
  forceDockerBundling: false,
  logLevel: LogLevel.WARNING,
} as const satisfies BundlingOptions;

/** The esbuild API equivalent of what NodejsFunction runs for `relayBundling` (its CLI flags, one for one). */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: relayBundling.format,
    target: relayBundling.target,
    minify: relayBundling.minify,
    sourcemap: relayBundling.sourceMap,
    sourcesContent: relayBundling.sourcesContent,
    mainFields: [...relayBundling.mainFields],
    banner: { js: relayBundling.banner },
    external: [],
    alias: sdkAliases,
    absWorkingDir: projectRoot,
    logLevel: relayBundling.logLevel,
  };
}

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

const credentialChain = '@aws-sdk/credential-provider-node';
const envCredentials = 'functions/lib/env-credentials.ts';

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
  // Lambda's credentials are environment variables, so the SDK's provider chain is swapped for a reader of them.
  esbuildArgs: { [`--alias:${credentialChain}`]: `./${envCredentials}` },
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
    alias: { [credentialChain]: join(projectRoot, envCredentials) },
    logLevel: relayBundling.logLevel,
  };
}

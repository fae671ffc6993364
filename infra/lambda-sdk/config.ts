// Bundled in place of @smithy/core/config (see infra/constructs/bundling.ts): everything it exports, except
// that settings come from the environment and the SDK's defaults only. On Lambda there are no shared config
// files (~/.aws/config, ~/.aws/credentials) to read at every cold start, and the region is always in
// AWS_REGION, so neither the INI loaders nor the instance-metadata region lookup are bundled (about 5 KB).

import { chain, fromStatic, memoize, ProviderError } from 'sdk-original:@smithy/core/config';

export * from 'sdk-original:@smithy/core/config';

type Provider<T> = () => Promise<T>;

interface ConfigSelectors<T> {
  environmentVariableSelector: (env: NodeJS.ProcessEnv, options?: unknown) => T | undefined;
  default: T | (() => T) | (() => Promise<T>);
}

/** A setting from its environment variable, else the SDK's default for it. */
export function loadConfig<T>({ environmentVariableSelector, default: fallback }: ConfigSelectors<T>, options?: unknown): Provider<T> {
  // As in the SDK, a variable that is unset or that its selector refuses leaves the setting to the next source.
  const fromEnvironment: Provider<T> = async () => {
    let value: T | undefined;
    try {
      value = environmentVariableSelector(process.env, options);
    } catch (error) {
      throw new ProviderError((error as Error).message, { tryNextLink: true });
    }
    if (value === undefined) throw new ProviderError('not set in the environment', { tryNextLink: true });
    return value;
  };
  return memoize(chain(fromEnvironment, fromStatic(fallback as T)));
}

export const NODE_REGION_CONFIG_OPTIONS: ConfigSelectors<string> = {
  environmentVariableSelector: (env) => env.AWS_REGION,
  default: () => {
    throw new Error('Region is missing: AWS_REGION is not set (Lambda always sets it)');
  },
};

const defaultsModes = new Set(['standard', 'in-region', 'cross-region', 'mobile', 'legacy']);

/**
 * The defaults mode from the client's config or AWS_DEFAULTS_MODE ("legacy" when neither). "auto" is decided
 * the way the SDK decides it on Lambda, from the function's own region, without asking instance metadata.
 */
export function resolveDefaultsModeConfig({
  region = loadConfig(NODE_REGION_CONFIG_OPTIONS),
  defaultsMode = loadConfig({ environmentVariableSelector: (env) => env.AWS_DEFAULTS_MODE, default: 'legacy' }),
}: { region?: string | Provider<string>; defaultsMode?: string | Provider<string> } = {}): Provider<string> {
  return memoize(async () => {
    const mode = (typeof defaultsMode === 'function' ? await defaultsMode() : defaultsMode)?.toLowerCase() ?? 'legacy';
    if (defaultsModes.has(mode)) return mode;
    if (mode !== 'auto') throw new Error(`Invalid parameter for "defaultsMode", expect ${[...defaultsModes].join(', ')}, got ${mode}`);
    const clientRegion = typeof region === 'function' ? await region() : region;
    const ownRegion = process.env.AWS_REGION;
    if (!ownRegion) return 'standard';
    return clientRegion === ownRegion ? 'in-region' : 'cross-region';
  });
}

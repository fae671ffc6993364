import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { esbuildOptions, functionEntries } from '../../infra/constructs/bundling.js';

export interface BuiltBundle {
  name: string;
  file: string;
  /** esbuild's account of the bundle: its size and every input, with the bytes each left in it. */
  output: Metafile['outputs'][string];
}

export interface Invocation {
  handlerType: string;
  result?: { statusCode?: number; body?: string } & Record<string, unknown>;
  /** What the handler printed (its JSON log lines). */
  logs: string[];
}

/** Imports a bundle and, given an event, invokes its handler once; prints what it saw as JSON, after any logs. */
const INVOKER = `
const [bundleUrl, event] = process.argv.slice(2);
const { handler } = await import(bundleUrl);
const result = event && typeof handler === 'function' ? await handler(JSON.parse(event), {}) : undefined;
process.stdout.write('\\n' + JSON.stringify({ handlerType: typeof handler, result }));
`;

const execFileAsync = promisify(execFile);

/**
 * Handler bundles built exactly as the stack builds them (the same options), in a temporary folder, and
 * run in a fresh Node process each, as Lambda would: the SDK inside a bundle is the bundle's own, so
 * aws-sdk-client-mock (which patches the test process's SDK) cannot reach it; tests point it at endpoints.
 */
export class LambdaBundles {
  readonly bundles = new Map<string, BuiltBundle>();

  private constructor(private readonly dir: string) {}

  /** Builds the named handlers (all of functions/ by default). */
  static async build(names?: readonly string[]): Promise<LambdaBundles> {
    const built = new LambdaBundles(await mkdtemp(join(tmpdir(), 'assist-relay-bundles-')));
    await writeFile(join(built.dir, 'invoke.mjs'), INVOKER);
    const entries = functionEntries().filter(({ name }) => !names || names.includes(name));
    await Promise.all(
      entries.map(async (entry) => {
        const { name } = entry;
        const file = join(built.dir, name, 'index.mjs');
        const { metafile } = await build({ ...esbuildOptions(entry, file), metafile: true });
        const output = Object.entries(metafile!.outputs).find(([path]) => path.endsWith('index.mjs'))![1];
        built.bundles.set(name, { name, file, output });
      }),
    );
    return built;
  }

  /** Loads the bundle with exactly `environment` (nothing of the test process's) and invokes it with `event`, if any. */
  async invoke(name: string, environment: NodeJS.ProcessEnv, event?: unknown): Promise<Invocation> {
    const args = [join(this.dir, 'invoke.mjs'), pathToFileURL(this.bundles.get(name)!.file).href];
    if (event !== undefined) args.push(JSON.stringify(event));
    const { stdout } = await execFileAsync(process.execPath, args, { env: environment });
    const lines = stdout.split('\n').filter((line) => line !== '');
    return { ...(JSON.parse(lines.pop()!) as Omit<Invocation, 'logs'>), logs: lines };
  }

  remove(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}

/** What Lambda gives every function besides the stack's variables: a region and the role's credentials. */
export const lambdaEnvironment = {
  PATH: process.env.PATH,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  // Lambda runs Node 22; the SDK's notice about Node 20 is noise here.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  NODE_OPTIONS: '--enable-source-maps',
};

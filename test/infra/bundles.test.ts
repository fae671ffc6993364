import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { builtinModules } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleSizeTargetBytes } from '../../bench/bundle-sizes.js';
import { esbuildOptions, handlerEntries } from '../../infra/constructs/bundling.js';
import { webSocketEvent } from '../support/events.js';

// Each handler is built exactly as the stack builds it (the same options object), then loaded and invoked
// in a fresh Node process, as Lambda would. The AWS SDK is inside the bundle, so aws-sdk-client-mock (which
// patches the SDK classes the test process imports) cannot reach it: the bundled DynamoDB client is pointed
// at a fake endpoint instead, which also proves the bundled SDK signs and serialises real requests.

/**
 * SDK-carrying bundles are ~250 KB with the env-only credential provider (~360 KB with the SDK's full
 * chain); this catches an accidental extra client, dependency, or a lost credential alias.
 */
const SDK_BUNDLE_CEILING_BYTES = 264 * 1024;
/** The email function alone carries a second client (SES v2): about 330 KB. */
const EMAIL_BUNDLE_CEILING_BYTES = 344 * 1024;

interface Invocation {
  handlerType: string;
  result?: { statusCode?: number; body?: string } & Record<string, unknown>;
}

interface BuiltBundle {
  name: string;
  file: string;
  bytes: number;
  externalImports: string[];
  bundledSdk: boolean;
}

interface DynamoCall {
  operation: string;
  body: Record<string, unknown>;
}

/** Answers DynamoDB's JSON protocol with a canned response per operation and records every call. */
function startFakeDynamo(responses: Record<string, unknown>) {
  const calls: DynamoCall[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const operation = String(request.headers['x-amz-target']).replace('DynamoDB_20120810.', '');
      calls.push({ operation, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(responses[operation] ?? {}));
    });
  });
  return { calls, server };
}

/** Imports a bundle and, given an event, invokes its handler once; prints what it saw as JSON. */
const INVOKER = `
const [bundleUrl, event] = process.argv.slice(2);
const { handler } = await import(bundleUrl);
const result = event && typeof handler === 'function' ? await handler(JSON.parse(event), {}) : undefined;
process.stdout.write(JSON.stringify({ handlerType: typeof handler, result }));
`;

const execFileAsync = promisify(execFile);
const TABLE_NAME = 'bundle-test-table';
const builtinSpecifiers = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);

describe('Lambda bundles', () => {
  const bundles = new Map<string, BuiltBundle>();
  const fake = startFakeDynamo({ PutItem: {}, Scan: { Items: [], Count: 0, ScannedCount: 0 } });
  let outDir: string;
  let environment: NodeJS.ProcessEnv;

  const invoke = async (name: string, event?: unknown): Promise<Invocation> => {
    const args = [join(outDir, 'invoke.mjs'), pathToFileURL(bundles.get(name)!.file).href];
    if (event !== undefined) args.push(JSON.stringify(event));
    const { stdout } = await execFileAsync(process.execPath, args, { env: environment });
    return JSON.parse(stdout) as Invocation;
  };

  beforeAll(async () => {
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    const { port } = fake.server.address() as AddressInfo;
    // What the stack sets, plus what Lambda provides (region, credentials), plus the fake endpoint.
    environment = {
      PATH: process.env.PATH,
      TABLE_NAME,
      CALLBACK_URL: 'https://abc123.execute-api.us-east-1.amazonaws.com/live',
      ASSIST_WEBSOCKET_URL: 'wss://abc123.execute-api.us-east-1.amazonaws.com/live',
      ASSIST_HTTP_URL: 'https://def456.execute-api.us-east-1.amazonaws.com',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}`,
      // Lambda runs Node 22; the SDK's notice about Node 20 is noise here.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      NODE_OPTIONS: '--enable-source-maps',
    };

    outDir = await mkdtemp(join(tmpdir(), 'assist-relay-bundle-test-'));
    await writeFile(join(outDir, 'invoke.mjs'), INVOKER);
    await Promise.all(
      handlerEntries().map(async ({ name, entry }) => {
        const file = join(outDir, name, 'index.mjs');
        const { metafile } = await build({ ...esbuildOptions(entry, file), metafile: true });
        const output = (metafile as Metafile).outputs[Object.keys(metafile!.outputs).find((path) => path.endsWith('index.mjs'))!]!;
        bundles.set(name, {
          name,
          file,
          bytes: output.bytes,
          externalImports: output.imports.filter((entry) => entry.external).map((entry) => entry.path),
          bundledSdk: Object.keys(output.inputs).some((input) => input.includes('node_modules/@aws-sdk/')),
        });
      }),
    );
  });

  afterAll(async () => {
    await new Promise((resolve) => fake.server.close(resolve));
    await rm(outDir, { recursive: true, force: true });
  });

  it('builds one bundle per handler file', () => {
    expect([...bundles.keys()].sort()).toEqual(handlerEntries().map(({ name }) => name));
  });

  it('bundles the AWS SDK and every other package: the only imports left are Node built-ins', () => {
    for (const bundle of bundles.values()) {
      expect(bundle.externalImports.filter((path) => !builtinSpecifiers.has(path)), bundle.name).toEqual([]);
    }
    expect(bundles.get('connect')!.bundledSdk).toBe(true);
  });

  it('emits a linked source map for NODE_OPTIONS=--enable-source-maps', async () => {
    for (const bundle of bundles.values()) {
      const code = await readFile(bundle.file, 'utf8');
      expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map'), bundle.name).toBe(true);
      const map = JSON.parse(await readFile(`${bundle.file}.map`, 'utf8')) as { mappings: string; sourcesContent?: unknown };
      expect(map.mappings.length, bundle.name).toBeGreaterThan(0);
      expect(map.sourcesContent, bundle.name).toBeUndefined();
    }
  });

  it('keeps bundles without an AWS SDK client under the 150 KB target, and SDK bundles under their ceiling', () => {
    for (const bundle of bundles.values()) {
      const sdkCeiling = bundle.name === 'email-invitation' ? EMAIL_BUNDLE_CEILING_BYTES : SDK_BUNDLE_CEILING_BYTES;
      const limit = bundle.bundledSdk ? sdkCeiling : bundleSizeTargetBytes;
      expect(bundle.bytes, `${bundle.name} is ${bundle.bytes} bytes`).toBeLessThanOrEqual(limit);
    }
  });

  it('loads every bundle as an ES module exporting a handler function', async () => {
    const loaded = await Promise.all([...bundles.keys()].map(async (name) => [name, (await invoke(name)).handlerType]));
    expect(Object.fromEntries(loaded)).toEqual(Object.fromEntries([...bundles.keys()].map((name) => [name, 'function'])));
  });

  it('$connect: the connect bundle records the connection with one PutItem and accepts it', async () => {
    const before = fake.calls.length;

    const { result } = await invoke('connect', webSocketEvent('$connect', 'conn-A1'));

    expect(result?.statusCode).toBe(200);
    const calls = fake.calls.slice(before);
    expect(calls.map((call) => call.operation)).toEqual(['PutItem']);
    const { TableName, Item } = calls[0]!.body as { TableName: string; Item: Record<string, Record<string, string>> };
    expect(TableName).toBe(TABLE_NAME);
    expect(Item.pk).toEqual({ S: 'CONN#conn-A1' });
    expect(Item.connectionId).toEqual({ S: 'conn-A1' });
    expect(Item.sourceIp).toEqual({ S: '203.0.113.7' });
    expect(Number(Item.expiresAt!.N)).toBeGreaterThan(Date.now() / 1000);
  });

  it('$default: the default bundle answers an unknown action with a typed error and touches no table', async () => {
    const before = fake.calls.length;

    const { result } = await invoke('default', webSocketEvent('$default', 'conn-A1', { action: 'teleport' }));

    expect(result?.statusCode).toBe(200);
    expect(JSON.parse(result!.body!)).toMatchObject({ type: 'error', code: 'unknown-action' });
    expect(fake.calls.length).toBe(before);
  });

  it('sweep: the sweep bundle scans the table for open sessions (CALLBACK_URL instead of an event)', async () => {
    const before = fake.calls.length;

    const { result } = await invoke('sweep', { source: 'aws.events', 'detail-type': 'Scheduled Event' });

    expect(result).toEqual({ ended: 0 });

    const calls = fake.calls.slice(before);
    expect(calls.map((call) => call.operation)).toEqual(['Scan']);
    expect(calls[0]!.body.TableName).toBe(TABLE_NAME);
  });

  it('http: the http bundle serves the health check', async () => {
    const { result } = await invoke('http', { rawPath: '/healthz', requestContext: { http: { method: 'GET' } } });

    expect(result?.statusCode).toBe(200);
    expect(JSON.parse(result!.body!)).toMatchObject({ status: 'ok' });
  });
});

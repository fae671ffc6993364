// The SDK stand-ins of infra/lambda-sdk/, bundled as the Lambda functions bundle them, checked against the
// real SDK modules they replace (imported here unbundled), and the claims that make dropping the rest safe.
import { createHash, createHmac } from 'node:crypto';
import { DeleteConnection$, PostToConnection$ } from '@aws-sdk/client-apigatewaymanagementapi';
import { DeleteItem$, DynamoDBClient, GetItem$, GetItemCommand, PutItem$, Query$, UpdateItem$ } from '@aws-sdk/client-dynamodb';
import { SendEmail$ } from '@aws-sdk/client-sesv2';
import { Sha256 as SdkSha256 } from '@smithy/core/checksum';
import { NormalizedSchema } from '@smithy/core/schema';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type * as Checksum from '../../infra/lambda-sdk/checksum.js';
import type * as Config from '../../infra/lambda-sdk/config.js';
import type * as NoEventStreams from '../../infra/lambda-sdk/no-event-streams.js';
import { importBundled } from './bundled-module.js';

const removals: Array<() => Promise<void>> = [];
async function standIn<T>(file: string): Promise<T> {
  const { module, remove } = await importBundled<T>(`infra/lambda-sdk/${file}`);
  removals.push(remove);
  return module;
}
afterAll(() => Promise.all(removals.map((remove) => remove())));

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('checksum stand-in: SHA-256 from node:crypto', () => {
  let Sha256: typeof Checksum.Sha256;
  beforeAll(async () => {
    ({ Sha256 } = await standIn<typeof Checksum>('checksum.ts'));
  });

  it('hashes the published test vectors (FIPS 180-2 "abc", RFC 4231 case 2)', async () => {
    const hash = new Sha256();
    hash.update('abc');
    expect(hex(await hash.digest())).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const hmac = new Sha256('Jefe');
    hmac.update(new TextEncoder().encode('what do ya want for nothing?'));
    expect(hex(await hmac.digest())).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('agrees with the SDK’s own SHA-256 on any data in any chunks, with or without a secret', async () => {
    const chunk = fc.oneof(fc.string(), fc.uint8Array());
    const secret = fc.option(fc.oneof(fc.string({ minLength: 1 }), fc.uint8Array({ minLength: 1 })), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { maxLength: 5 }), secret, async (chunks, secret) => {
        const ours = new Sha256(secret);
        const sdks = new SdkSha256(secret);
        for (const chunk of chunks) {
          ours.update(chunk);
          sdks.update(chunk as Uint8Array); // the SDK signs strings too, though its type says bytes
        }
        expect(hex(await ours.digest())).toBe(hex(await sdks.digest()));
      }),
    );
  });

  it('hashes a view of part of a buffer, not the whole buffer behind it', async () => {
    const whole = new TextEncoder().encode('xxabcxx');
    const hash = new Sha256();
    hash.update(whole.subarray(2, 5));
    expect(hex(await hash.digest())).toBe(createHash('sha256').update('abc').digest('hex'));
  });

  it('lets a plain hash go on after a digest, as the SDK’s does, and starts over on reset', async () => {
    const hash = new Sha256();
    hash.update('ab');
    await hash.digest();
    hash.update('c');
    expect(hex(await hash.digest())).toBe(createHash('sha256').update('abc').digest('hex'));
    const hmac = new Sha256('key');
    hmac.update('ignored');
    hmac.reset();
    hmac.update('abc');
    expect(hex(await hmac.digest())).toBe(createHmac('sha256', 'key').update('abc').digest('hex'));
  });
});

describe('config stand-in: settings from the environment and the SDK’s defaults', () => {
  let config: typeof Config;
  const saved = { ...process.env };
  beforeAll(async () => {
    config = await standIn<typeof Config>('config.ts');
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  const attempts = {
    environmentVariableSelector: (env: NodeJS.ProcessEnv) => {
      const value = env.TEST_MAX_ATTEMPTS;
      if (value === undefined) return undefined;
      if (Number.isNaN(Number(value))) throw new Error('not a number');
      return Number(value);
    },
    default: 3,
  };

  it('reads a setting from its variable, else takes the default, and ignores a value the selector refuses (as the SDK does)', async () => {
    process.env.TEST_MAX_ATTEMPTS = '7';
    expect(await config.loadConfig(attempts)()).toBe(7);
    delete process.env.TEST_MAX_ATTEMPTS;
    expect(await config.loadConfig(attempts)()).toBe(3);
    process.env.TEST_MAX_ATTEMPTS = 'many';
    expect(await config.loadConfig(attempts)()).toBe(3);
    expect(await config.loadConfig({ ...attempts, default: async () => 5 })()).toBe(5);
  });

  it('takes the region from AWS_REGION and says so when it is missing', async () => {
    process.env.AWS_REGION = 'eu-central-1';
    expect(await config.loadConfig(config.NODE_REGION_CONFIG_OPTIONS)()).toBe('eu-central-1');
    delete process.env.AWS_REGION;
    await expect(config.loadConfig(config.NODE_REGION_CONFIG_OPTIONS)()).rejects.toThrow(/Region is missing: AWS_REGION is not set/);
  });

  it('resolves the defaults mode from config or AWS_DEFAULTS_MODE, and "auto" from the function’s own region', async () => {
    process.env.AWS_REGION = 'eu-west-1';
    expect(await config.resolveDefaultsModeConfig()()).toBe('legacy');
    process.env.AWS_DEFAULTS_MODE = 'Standard';
    expect(await config.resolveDefaultsModeConfig()()).toBe('standard');
    expect(await config.resolveDefaultsModeConfig({ defaultsMode: 'mobile' })()).toBe('mobile');
    expect(await config.resolveDefaultsModeConfig({ defaultsMode: 'auto', region: 'eu-west-1' })()).toBe('in-region');
    expect(await config.resolveDefaultsModeConfig({ defaultsMode: 'auto', region: async () => 'us-east-1' })()).toBe('cross-region');
    await expect(config.resolveDefaultsModeConfig({ defaultsMode: 'fast' })()).rejects.toThrow(/expect standard, in-region/);
  });
});

describe('what the stand-ins leave out is never used by the relay’s calls', () => {
  it('no operation the adapters send has an event-stream member, the only reason the SDK loads event streams', () => {
    const sent = [GetItem$, PutItem$, UpdateItem$, DeleteItem$, Query$, PostToConnection$, DeleteConnection$, SendEmail$];
    for (const operation of sent) {
      const [, , name, , input, output] = operation as unknown as [number, string, string, unknown, unknown, unknown];
      for (const shape of [input, output]) expect(NormalizedSchema.of(shape as never).getEventStreamMember(), name).toBe('');
    }
  });

  it('the event-streams stand-in says what is missing if it is ever reached', async () => {
    const { EventStreamSerde, eventStreamSerdeProvider } = await standIn<typeof NoEventStreams>('no-event-streams.ts');
    expect(() => new EventStreamSerde()).toThrow(/event streams are not bundled/);
    expect(() => eventStreamSerdeProvider()).toThrow(/event streams are not bundled/);
  });

  it('no middleware of the DynamoDB client reads the endpoint-discovery settings, even with discovery turned on', () => {
    const client = new DynamoDBClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, endpointDiscoveryEnabled: true });
    const command = new GetItemCommand({ TableName: 't', Key: { pk: { S: 'x' } } });
    command.resolveMiddleware(client.middlewareStack, client.config, {});
    const middleware = client.middlewareStack.concat(command.middlewareStack).identify();
    expect(middleware.length).toBeGreaterThan(5);
    expect(middleware.filter((name) => /discover/i.test(name))).toEqual([]);
  });
});

// The @connections client the handlers post every relayed frame with (a file of its own: aws-sdk-client-mock in
// the notifier's tests replaces every client's send).
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { PostToConnectionCommand, type ApiGatewayManagementApiClientConfig } from '@aws-sdk/client-apigatewaymanagementapi';
import { HttpRequest, HttpResponse } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createManagementClient } from '../../../shared/server/adapters/api-gateway-notifier.js';

const bytesOf = (data: SourceData) =>
  typeof data === 'string' ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);

/** SHA-256, or HMAC-SHA256 with a key: the hash a SigV4 signer is built with. */
class Sha256 {
  private readonly hash: Hash | Hmac;

  constructor(key?: SourceData) {
    this.hash = key === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(key));
  }

  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

const region = 'eu-west-1';
const endpoint = `https://example.execute-api.${region}.amazonaws.com/prod`;

afterEach(() => vi.useRealTimers());

describe('createManagementClient', () => {
  it('signs every post as SigV4 does with the credentials of its moment, while it keeps one signer', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-03T17:00:00Z'));
    const sent: HttpRequest[] = [];
    let keys = 0;
    const config: Omit<ApiGatewayManagementApiClientConfig, 'endpoint' | 'maxAttempts'> = {
      region,
      // Credentials about to expire (the SDK refreshes those within 5 minutes of expiry): new keys for every
      // request, as rotating credentials give. A signer kept from an earlier request must still use the new ones.
      credentials: async () => ({ accessKeyId: `AKID${++keys}`, secretAccessKey: `secret-${keys}`, expiration: new Date(Date.now() + 60_000) }),
      requestHandler: {
        handle: async (request: HttpRequest) => {
          sent.push(HttpRequest.clone(request));
          return { response: new HttpResponse({ statusCode: 200, headers: {}, body: new Uint8Array() }) };
        },
      } as never,
    };
    const client = createManagementClient(endpoint, config);
    for (const data of ['one', 'two', 'three']) await client.send(new PostToConnectionCommand({ ConnectionId: 'peer-1', Data: new TextEncoder().encode(data) }));

    const keyIds = sent.map((request) => /Credential=(\w+)\//.exec(request.headers.authorization ?? '')?.[1]);
    expect(new Set(keyIds).size).toBe(3);
    for (const [index, request] of sent.entries()) {
      const { authorization, ...unsigned } = request.headers;
      const accessKeyId = keyIds[index]!;
      const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey: accessKeyId.replace('AKID', 'secret-') }, region, service: 'execute-api', sha256: Sha256 });
      const expected = await signer.sign(new HttpRequest({ ...request, headers: unsigned }), { signingDate: new Date() });
      expect(authorization).toBe(expected.headers.authorization);
    }
  });
});

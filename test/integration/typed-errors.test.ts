// Everything answers with a typed error (issue 14): malformed percent-encoding in a path is the
// caller's mistake (400), on the local runtime and in the handler AWS runs; action names that are
// Object.prototype's own names select no route. And the HTTPS side sends HSTS when served over HTTPS.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { httpRoute } from '../../functions/http.js';
import { defaultPolicy } from '../../shared/server/config/policy.js';
import type { SessionStore } from '../../shared/server/ports/session-store.js';
import { useLocalRuntime } from '../support/runtime.js';
import { TestSocket } from '../support/ws-client.js';

const runtime = useLocalRuntime();

const malformedPaths = ['/join/%', '/join/%ff', '/join/%E0%A4%A', '/join/%C0%AF'];

describe('typed errors', () => {
  it.each(malformedPaths)('GET %s answers 400, not 500, on the local runtime', async (path) => {
    const response = await fetch(`${runtime().httpUrl}${path}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ message: expect.stringContaining('Bad Request') });
  });

  it.each(malformedPaths)('GET %s answers 400 from the HTTP handler as Lambda runs it, without reading the store', async (path) => {
    const store = new Proxy({} as SessionStore, {
      get: () => () => Promise.reject(new Error('the store must not be read for a malformed path')),
    });
    const rateLimiter = { consume: () => Promise.reject(new Error('a malformed path is refused before it is counted')) };
    const handler = httpRoute(() => ({ store, rateLimiter, endpoints: { webSocketUrl: 'wss://relay.example.org', httpUrl: 'https://relay.example.org' }, clock: Date.now, policy: defaultPolicy }));
    const event = { rawPath: path, requestContext: { http: { method: 'GET', sourceIp: '203.0.113.7' } } } as unknown as APIGatewayProxyEventV2;
    const result = await handler(event, {} as never);
    expect(result.statusCode).toBe(400);
  });

  it('a malformed connection id on the @connections API is a BadRequestException (400)', async () => {
    const response = await fetch(`${runtime().internalUrl}/local/@connections/%ff`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('BadRequestException');
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'])(
    'action %j is an unknown action, and the connection stays usable',
    async (action) => {
      const socket = await TestSocket.open(runtime().wsUrl);
      expect(await socket.request({ action })).toMatchObject({ type: 'error', code: 'unknown-action' });
      expect(await socket.request(`{"action":${JSON.stringify(action)},"__proto__":{"action":"createSession"}}`)).toMatchObject({ code: 'unknown-action' });
      expect(await socket.request({ action: 'createSession' })).toMatchObject({ type: 'sessionCreated' });
      socket.close();
    },
  );
});

describe('transport security', () => {
  const handlerFor = (httpUrl: string) =>
    httpRoute(() => ({
      store: { findSessionIdByNameplate: async () => undefined } as unknown as SessionStore,
      rateLimiter: { consume: async () => true },
      endpoints: { webSocketUrl: httpUrl.replace(/^http/, 'ws'), httpUrl },
      clock: Date.now,
      policy: defaultPolicy,
    }));
  const get = (httpUrl: string, path: string) =>
    handlerFor(httpUrl)({ rawPath: path, requestContext: { http: { method: 'GET', sourceIp: '203.0.113.7' } } } as unknown as APIGatewayProxyEventV2, {} as never);

  it.each(['/join/7KQ3', '/healthz', '/relay.json', '/nowhere'])('served over HTTPS, %s carries HSTS', async (path) => {
    const result = await get('https://relay.example.org', path);
    expect(result.headers?.['strict-transport-security']).toBe('max-age=63072000');
  });

  it('served over plain HTTP (the local runtime), nothing claims HSTS', async () => {
    const result = await get('http://127.0.0.1:8787', '/join/7KQ3');
    expect(result.headers?.['strict-transport-security']).toBeUndefined();
  });
});

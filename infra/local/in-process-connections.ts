// The handlers' @connections client, without the loopback socket. The real ApiGatewayManagementApiClient
// still builds, signs and serializes every request and parses every answer (typed errors from status and
// x-amzn-errortype included); only the last step, the HTTP exchange with the gateway's endpoint, is a
// function call to the same code the endpoint runs (LocalGateway.manageConnection). The HTTP endpoint
// stays for everything else (tests playing a malicious relay, the bundled handlers) and can be chosen
// for the handlers too (`startLocalRuntime({ connectionsPath: 'http' })`).
import { HttpResponse, type HttpHandler, type HttpRequest } from '@smithy/core/protocols';
import type { HttpAnswer } from './gateway.js';

/** What answers an @connections request: `path` is `/<stage>/@connections/<id, URL-encoded>`. */
export type ManageConnection = (method: string, path: string, body: Uint8Array) => HttpAnswer;

const encoder = new TextEncoder();

/** The SDK's request handler interface (what NodeHttpHandler implements), answered in this process. */
export class InProcessConnections implements HttpHandler {
  constructor(private readonly manage: ManageConnection) {}

  async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
    const { status, headers, body } = this.manage(request.method, request.path, await bodyBytes(request.body));
    // A Uint8Array body is what the SDK's body collector takes as it is (a socket would give a stream).
    return { response: new HttpResponse({ statusCode: status, headers: { ...headers }, body: encoder.encode(body) }) };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {}
}

/** The serialized body: bytes for PostToConnection's Data, none for GET and DELETE; a string or stream in principle. */
async function bodyBytes(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array();
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return encoder.encode(body);
  if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    const chunks: Uint8Array[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
    return Buffer.concat(chunks);
  }
  throw new TypeError(`an @connections request body of type ${typeof body} cannot be sent`);
}

import {
  ApiGatewayManagementApiClient,
  type ApiGatewayManagementApiClientConfig,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  LimitExceededException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConnectionNotifier, PostOutcome } from '../ports/connection-notifier.js';
import type { Log } from '../ports/log.js';
import type { ServerMessage } from '../../core/messages.js';
import { RelayError } from '../use-cases/errors.js';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
}

const defaultRetry: RetryPolicy = { attempts: 4, baseDelayMs: 20 };

const isThrottle = (error: unknown) =>
  error instanceof LimitExceededException ||
  (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 429;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** API Gateway's @connections API: posts with throttling backoff; Gone is an outcome, not an error. */
export class ApiGatewayNotifier implements ConnectionNotifier {
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly client: ApiGatewayManagementApiClient,
    private readonly log: Log,
    private readonly retry: RetryPolicy = defaultRetry,
  ) {}

  post(connectionId: string, message: ServerMessage): Promise<PostOutcome> {
    return this.postRaw(connectionId, JSON.stringify(message));
  }

  async postRaw(connectionId: string, body: string): Promise<PostOutcome> {
    const command = new PostToConnectionCommand({ ConnectionId: connectionId, Data: this.encoder.encode(body) });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(command);
        return 'delivered';
      } catch (error) {
        if (error instanceof GoneException) return 'gone';
        if (error instanceof PayloadTooLargeException) {
          throw new RelayError('message-too-large', 'the message is larger than the relay can deliver');
        }
        if (!isThrottle(error)) throw error;
        if (attempt >= this.retry.attempts) {
          this.log.warn('post-throttled', { attempts: attempt });
          return 'throttled';
        }
        // Exponential backoff with full jitter, so throttled senders do not retry in lockstep.
        await sleep(Math.random() * this.retry.baseDelayMs * 2 ** attempt);
      }
    }
  }

  async isConnected(connectionId: string): Promise<boolean> {
    try {
      await this.client.send(new GetConnectionCommand({ ConnectionId: connectionId }));
      return true;
    } catch (error) {
      if (error instanceof GoneException) return false;
      // Throttled or failing: not known gone. The next sweep asks again.
      this.log.warn('connection-check-failed', { error: (error as Error)?.name });
      return true;
    }
  }

  async disconnect(connectionId: string): Promise<void> {
    try {
      await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (error) {
      if (!(error instanceof GoneException)) throw error;
    }
  }
}

/**
 * One client per callback endpoint, created with SDK retries off: throttling is retried above, Gone never.
 * Every relayed frame is a post, so the client resolves its middleware stack once per command type
 * (`cacheMiddleware`, the SDK's own option) instead of on every call: a tenth of the local relay's CPU per
 * frame, and Lambda duration on AWS. Middleware must then be added before the first call (the local
 * runtime's IAM check is added when the client is built). For the same reason it keeps one request signer.
 */
export function createManagementClient(
  endpoint: string,
  config: Omit<ApiGatewayManagementApiClientConfig, 'endpoint' | 'maxAttempts'> = {},
): ApiGatewayManagementApiClient {
  const client = new ApiGatewayManagementApiClient({ ...config, endpoint, maxAttempts: 1, cacheMiddleware: true });
  reuseSigner(client);
  return client;
}

/**
 * The SDK's default `signer` builds a new SigV4 signer for every request, copying the client's whole
 * configuration into it, and a new signer has an empty signing-key cache, so every post derived the key
 * again (four HMACs). The same signer for every request of this client (one endpoint, region, service
 * and credential provider, which it still asks on every signature) signs the same: ~15% of a post's CPU.
 */
function reuseSigner(client: ApiGatewayManagementApiClient): void {
  const newSigner = client.config.signer;
  let signer: ReturnType<typeof newSigner> | undefined;
  client.config.signer = (authScheme) =>
    (signer ??= newSigner(authScheme).catch((error: unknown) => {
      // Not kept when it failed (a region not resolved yet): the next request tries again.
      signer = undefined;
      throw error;
    }));
}

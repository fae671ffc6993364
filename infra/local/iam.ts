import type { FunctionSpec, SdkClient } from '../../functions/lib/routes.js';
import { CodedError } from '../../shared/core/coded-error.js';

/**
 * IAM as AWS enforces it, for the local runtime: each function's clients may do only what its entry in
 * the route table grants (the same list the stack turns into its role's policy), and anything else is
 * refused with AccessDeniedException naming the action, as Lambda's role would refuse it. So every
 * integration test is also a test of the stack's grants.
 */
export class AccessDeniedException extends CodedError<'access-denied'> {
  override readonly name = 'AccessDeniedException';

  constructor(message: string) {
    super('access-denied', message);
  }
}

type MiddlewareClient = {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { request: unknown }) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: { request: unknown }) => Promise<unknown>,
      options: { step: 'build'; name: string },
    ): void;
  };
};

type Request = { method?: string; headers?: Record<string, string>; body?: unknown };

/** The stack grants Query on the function's own index only (infra/constructs/relay-function.ts): a Query of the table, or of another index, is refused. */
const queriesElsewhere = (spec: FunctionSpec, action: string, request: Request) =>
  action === 'dynamodb:Query' && (JSON.parse(bodyText(request.body)) as { IndexName?: string }).IndexName !== spec.queryIndex;

/** The SDK serializes JSON bodies as bytes (a Uint8Array that still answers string methods, with a deprecation warning). */
const bodyText = (body: unknown): string =>
  typeof body === 'string' ? body : body instanceof Uint8Array ? new TextDecoder().decode(body) : '{}';

/**
 * The action a serialized request performs: DynamoDB names it in X-Amz-Target, @connections by its HTTP
 * method, SES by its command (the stack grants ses:SendEmail to the function with the SES client).
 */
function actionOf(service: SdkClient, request: Request, commandName = ''): string {
  if (service === 'dynamodb') return `dynamodb:${String(request.headers?.['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '')}`;
  if (service === 'sesv2') return `ses:${commandName.replace(/Command$/, '')}`;
  return `execute-api:ManageConnections ${request.method ?? ''}`;
}

function isGranted(spec: FunctionSpec, service: SdkClient, request: Request): boolean {
  if (!spec.clients.includes(service)) return false;
  if (service === 'dynamodb') {
    const action = actionOf(service, request);
    return (spec.tableActions as readonly string[]).includes(action.slice('dynamodb:'.length)) && !queriesElsewhere(spec, action, request);
  }
  if (service === 'sesv2') return true;
  return (spec.connections as readonly string[]).includes(request.method ?? '');
}

/** Refuses, before it is sent, every request of `client` that the function `name`'s grants do not allow. */
export function enforceGrants(name: string, spec: FunctionSpec, service: SdkClient, client: unknown): void {
  (client as MiddlewareClient).middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as Request;
      if (!isGranted(spec, service, request)) {
        const action = actionOf(service, request, context.commandName);
        const where = queriesElsewhere(spec, action, request) && spec.queryIndex ? ` other than on its ${spec.queryIndex} index` : '';
        throw new AccessDeniedException(`the ${name} function is not authorized to perform: ${action}${where} (its grants are in functions/lib/routes.ts)`);
      }
      return next(args);
    },
    { step: 'build', name: 'localIamGrants' },
  );
}

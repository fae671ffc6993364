import type { FunctionSpec, SdkClient } from '../../functions/lib/routes.js';
import type { Mailer } from '../../shared/ports/mailer.js';

/**
 * IAM as AWS enforces it, for the local runtime: each function's clients may do only what its entry in
 * the route table grants (the same list the stack turns into its role's policy), and anything else is
 * refused with AccessDeniedException naming the action, as Lambda's role would refuse it. So every
 * integration test is also a test of the stack's grants.
 */
export class AccessDeniedException extends Error {
  override name = 'AccessDeniedException';
}

type MiddlewareClient = {
  middlewareStack: {
    add(
      middleware: (next: (args: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => Promise<unknown>,
      options: { step: 'build'; name: string },
    ): void;
  };
};

const denied = (spec: FunctionSpec, action: string) =>
  new AccessDeniedException(`the ${spec.file} function is not authorized to perform: ${action} (its grants are in functions/lib/routes.ts)`);

/** The action a serialized request performs: DynamoDB names it in X-Amz-Target, @connections by its HTTP method. */
function actionOf(service: SdkClient, request: { method?: string; headers?: Record<string, string> }): string {
  if (service === 'dynamodb') return `dynamodb:${String(request.headers?.['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '')}`;
  return `execute-api:ManageConnections ${request.method ?? ''}`;
}

function isGranted(spec: FunctionSpec, service: SdkClient, request: { method?: string; headers?: Record<string, string> }): boolean {
  if (!spec.clients.includes(service)) return false;
  if (service === 'dynamodb') return (spec.tableActions as readonly string[]).includes(actionOf(service, request).slice('dynamodb:'.length));
  return (spec.connections as readonly string[]).includes(request.method ?? '');
}

/** Refuses, before it is sent, every request of `client` that the function's grants do not allow. */
export function enforceGrants(spec: FunctionSpec, service: SdkClient, client: unknown): void {
  (client as MiddlewareClient).middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { method?: string; headers?: Record<string, string> };
      if (!isGranted(spec, service, request)) throw denied(spec, actionOf(service, request));
      return next(args);
    },
    { step: 'build', name: 'localIamGrants' },
  );
}

/** The mailer a function may use: the real one with SES in its clients, else one that is refused. */
export function grantedMailer(spec: FunctionSpec, mailer: Mailer): Mailer {
  if (spec.clients.includes('sesv2')) return mailer;
  return { send: () => Promise.reject(denied(spec, 'ses:SendEmail')) };
}

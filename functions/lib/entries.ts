// Each function's Lambda entry, derived from the route table (functions/lib/routes.ts): a WebSocket route has
// no handler file; its entry is a few generated lines that import its use case, its kind of route (one-way or
// not) and exactly the client factories its entry names, so its bundle carries only those SDK clients. The
// local runtime builds the same handler from the same entry (webSocketRoute), so what it serves is what deploys.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { functionNameOf, isOneWay, otherFunctions, webSocketRoutes, type SdkClient, type UseCaseRef, type WebSocketRouteKey, type WebSocketRouteSpec } from './routes.js';
import type { ClientFactories } from './wiring.js';
import { actionRoute, connectRoute, disconnectRoute, fallbackRoute, routeKindOf, type RouteUseCase } from './ws-handler.js';

const functionsDir = fileURLToPath(new URL('../', import.meta.url));

/** The factory (functions/lib/clients.ts) that builds each SDK client. */
const clientFactoryOf = { dynamodb: 'dynamo', apigatewaymanagementapi: 'management', sesv2: 'ses' } as const satisfies Record<SdkClient, keyof ClientFactories>;

/** `sessions#createSession` → its module, relative to functions/ (`../shared/server/use-cases/sessions.ts`), and its export. */
export function useCaseModule(ref: UseCaseRef): { path: string; exportName: string } {
  const [module, exportName] = ref.split('#') as [string, string];
  return { path: `../shared/server/use-cases/${module}.ts`, exportName };
}

/** Loads a route's use case the way its entry imports it (the local runtime, unbundled). */
export async function useCaseOf(ref: UseCaseRef | undefined): Promise<RouteUseCase | undefined> {
  if (!ref) return undefined;
  const { path, exportName } = useCaseModule(ref);
  const useCase = ((await import(new URL(path, new URL('../', import.meta.url)).href)) as Record<string, unknown>)[exportName];
  if (typeof useCase !== 'function') throw new Error(`the route table names use case ${ref}, but shared/server/use-cases/ exports no such function`);
  return useCase as RouteUseCase;
}

const routeKinds = { connectRoute, disconnectRoute, fallbackRoute, actionRoute };

/** The handler of a WebSocket route from its key and use case, as its Lambda entry builds it (the local runtime, tests). */
export function webSocketRoute(routeKey: WebSocketRouteKey, useCase?: RouteUseCase) {
  if (routeKey !== '$default' && !useCase) throw new Error(`the route table names no use case for ${routeKey}`);
  return routeKinds[routeKindOf(routeKey)](routeKey, useCase, isOneWay(routeKey));
}

/** The source of a WebSocket route's Lambda entry (it lives only in the bundler's input). */
export function routeEntrySource(routeKey: WebSocketRouteKey, spec: Pick<WebSocketRouteSpec, 'useCase' | 'clients'>): string {
  const factories = spec.clients.map((client) => clientFactoryOf[client]);
  const useCase = spec.useCase && useCaseModule(spec.useCase);
  const clients = factories.length > 0 ? `{ ${factories.join(', ')} }` : '{}';
  const kind = routeKindOf(routeKey);
  return [
    `// The ${routeKey} route's Lambda entry, generated from functions/lib/routes.ts (functions/lib/entries.ts).`,
    `import { ${kind} } from './lib/ws-handler.ts';`,
    `import { depsFromEnvironment } from './lib/wiring.ts';`,
    ...(factories.length > 0 ? [`import { ${factories.join(', ')} } from './lib/clients.ts';`] : []),
    ...(useCase ? [`import { ${useCase.exportName} as useCase } from ${JSON.stringify(useCase.path)};`] : []),
    `export const handler = ${kind}(${JSON.stringify(routeKey)}, ${useCase ? 'useCase' : 'undefined'}, ${isOneWay(routeKey)})(depsFromEnvironment(${clients}));`,
    '',
  ].join('\n');
}

/** What esbuild builds for a function: its handler file, or (a route) generated source resolved from functions/. */
export type FunctionEntry = { name: string } & ({ file: string } | { source: string; sourcefile: string; resolveDir: string });

/** Every function's entry: one bundle each. */
export function functionEntries(): FunctionEntry[] {
  const routes = (Object.entries(webSocketRoutes) as Array<[WebSocketRouteKey, WebSocketRouteSpec]>).map(([routeKey, spec]): FunctionEntry => {
    const name = functionNameOf(routeKey);
    return { name, source: routeEntrySource(routeKey, spec), sourcefile: `functions/${name}.ts`, resolveDir: functionsDir };
  });
  const others = Object.values(otherFunctions).map(({ file }): FunctionEntry => ({ name: file, file: join(functionsDir, `${file}.ts`) }));
  return [...routes, ...others].sort((a, b) => a.name.localeCompare(b.name));
}

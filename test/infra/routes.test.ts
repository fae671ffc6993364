import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { functionEntries } from '../../infra/constructs/bundling.js';
import { routeEntrySource, useCaseOf } from '../../functions/lib/entries.js';
import { functionNameOf, otherFunctions, replyTypeOf, webSocketRoutes, type WebSocketRouteKey, type WebSocketRouteSpec } from '../../functions/lib/routes.js';
import { clientActions } from '../../shared/core/schemas.js';
import { tableSchema } from '../../shared/server/adapters/table.js';

// functions/lib/routes.ts is the one list of routes: the stack, the local runtime and the SDK read it, and each
// route's Lambda entry is derived from it. These checks tie it to what exists: the use cases and the protocol.

const routeKeys = Object.keys(webSocketRoutes) as WebSocketRouteKey[];

describe('the route table', () => {
  it('gives every function one bundle entry; only the functions that serve no route have a handler file in functions/', () => {
    const names = [...routeKeys.map(functionNameOf), ...Object.values(otherFunctions).map((spec) => spec.file)];
    expect(new Set(names).size).toBe(names.length);
    expect(functionEntries().map(({ name }) => name)).toEqual([...names].sort());
    const files = readdirSync(new URL('../../functions/', import.meta.url)).filter((file) => file.endsWith('.ts'));
    expect(files.sort()).toEqual(Object.values(otherFunctions).map((spec) => `${spec.file}.ts`).sort());
  });

  it('routes every client action of the protocol, plus API Gateway’s $connect, $disconnect and $default', () => {
    expect([...routeKeys].sort()).toEqual([...clientActions, '$connect', '$default', '$disconnect'].sort());
  });

  it('names for each route a use case that shared/server/use-cases/ exports, taking what the route passes; $default has none', async () => {
    for (const routeKey of routeKeys) {
      const useCase = await useCaseOf((webSocketRoutes[routeKey] as WebSocketRouteSpec).useCase);
      if (routeKey === '$default') {
        expect(useCase, routeKey).toBeUndefined();
        continue;
      }
      expect(typeof useCase, routeKey).toBe('function');
      // (deps, caller) for $connect and $disconnect; (deps, caller, request) at most for a client action.
      expect(useCase!.length, routeKey).toBeLessThanOrEqual(routeKey.startsWith('$') ? 2 : 3);
    }
    await expect(useCaseOf('sessions#noSuchUseCase')).rejects.toThrow(/exports no such function/);
  });

  it('derives each route’s Lambda entry: its use case and exactly the client factories its entry names', () => {
    const frame = routeEntrySource('frame', webSocketRoutes.frame);
    expect(frame).toContain(`import { relayFrame as useCase } from "../shared/server/use-cases/relay-frame.ts";`);
    expect(frame).toContain(`import { dynamo, management } from './lib/clients.ts';`);
    expect(frame).toContain(`actionRoute("frame", useCase, true)(depsFromEnvironment({ dynamo, management }))`);
    const fallback = routeEntrySource('$default', webSocketRoutes.$default);
    expect(fallback).not.toContain('clients');
    expect(fallback).toContain(`fallbackRoute("$default", undefined, false)(depsFromEnvironment({}))`);
  });

  it('gives the SDK an answer type for each request that gets one, and none for one-way messages', () => {
    expect(replyTypeOf).toEqual({
      createSession: 'sessionCreated',
      joinSession: 'sessionJoined',
      resumeSession: 'sessionResumed',
      approveSession: 'sessionActive',
      reportFailedAttempt: 'attemptRecorded',
      recordEvent: 'eventRecorded',
      extendSession: 'sessionExtended',
      emailInvitation: 'invitationEmailed',
      listAudit: 'auditLog',
      enrolDevice: 'deviceEnrolled',
      requestDeviceChallenge: 'deviceChallenge',
      signInDevice: 'deviceSignedIn',
      deviceHeartbeat: 'deviceHeartbeatAcknowledged',
      signInTechnician: 'technicianSignedIn',
      listOfferableDevices: 'offerableDevices',
      offerDevice: 'deviceOffered',
      answerOffer: 'offerAnswered',
    });
  });

  it('lets a function manage connections only with the client for it, and send email only with SES', () => {
    for (const [name, spec] of Object.entries({ ...webSocketRoutes, ...otherFunctions })) {
      const clients: readonly string[] = spec.clients;
      expect(spec.connections.length > 0, name).toBe(clients.includes('apigatewaymanagementapi'));
      expect(spec.tableActions.length > 0, name).toBe(clients.includes('dynamodb'));
    }
  });

  it('names the index of every function that Queries (the stack grants Query on it alone, never on the table)', () => {
    for (const [name, spec] of Object.entries({ ...webSocketRoutes, ...otherFunctions })) {
      const actions: readonly string[] = spec.tableActions;
      const { queryIndex } = spec as { queryIndex?: string };
      expect(queryIndex !== undefined, name).toBe(actions.includes('Query'));
      if (queryIndex !== undefined) expect([tableSchema.openSessionsIndex.name, tableSchema.collectionsIndex.name], name).toContain(queryIndex);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { handlerEntries } from '../../infra/constructs/bundling.js';
import { otherFunctions, replyTypeOf, routeFactoryName, webSocketRoutes } from '../../functions/lib/routes.js';
import { clientActions } from '../../shared/protocol/messages.js';

// functions/lib/routes.ts is the one list of routes: the stack, the local runtime and the SDK read it.
// These checks tie it to what exists: the handler files and the protocol's actions.

const allFunctions = { ...webSocketRoutes, ...otherFunctions };

describe('the route table', () => {
  it('names every handler file in functions/ exactly once, and no file that is not there', () => {
    const files = Object.values(allFunctions).map((spec) => spec.file);
    expect(new Set(files).size).toBe(files.length);
    expect([...files].sort()).toEqual(handlerEntries().map(({ name }) => name));
  });

  it('routes every client action of the protocol, plus API Gateway’s $connect, $disconnect and $default', () => {
    expect(Object.keys(webSocketRoutes).sort()).toEqual([...clientActions, '$connect', '$default', '$disconnect'].sort());
  });

  it('finds each WebSocket route’s handler factory and Lambda handler in its file', async () => {
    for (const { file } of Object.values(webSocketRoutes)) {
      const module = (await import(`../../functions/${file}.ts`)) as Record<string, unknown>;
      expect(typeof module[routeFactoryName(file)], `${file}: ${routeFactoryName(file)}`).toBe('function');
      expect(typeof module.handler, `${file}: handler`).toBe('function');
    }
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
    });
  });

  it('lets a function manage connections only with the client for it, and send email only with SES', () => {
    for (const [name, spec] of Object.entries(allFunctions)) {
      const clients: readonly string[] = spec.clients;
      expect(spec.connections.length > 0, name).toBe(clients.includes('apigatewaymanagementapi'));
      expect(spec.tableActions.length > 0, name).toBe(clients.includes('dynamodb'));
    }
  });
});

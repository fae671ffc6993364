import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions, functionEntries } from '../../infra/constructs/bundling.js';
import { RelayStack } from '../../infra/relay-stack.js';
import { defaultPolicy, policyEnvironmentNames, type RelayPolicy } from '../../shared/server/config/policy.js';
import { tableSchema } from '../../shared/server/adapters/table.js';
import { clientActions } from '../../shared/core/schemas.js';
import { loadConsoleSite } from '../../web/server/console-site.js';
import { parseRelayInfo } from '../../shared/core/relay-url.js';
import { renderRelayInfo } from '../../shared/server/join-page.js';
import { technicianIssuerFromEnvironment } from '../../shared/server/config/technician-issuer.js';

// What each handler may do, written out independently of the stack and checked against shared/server/use-cases:
// a store method maps to one DynamoDB action (get* → GetItem, put*/claimNameplate/createSession → PutItem,
// bind/attach/detach/touch/end → UpdateItem, delete/releaseNameplate → DeleteItem, listOpenSessions → Query on
// the OpenSessions index, then GetItem);
// finishSession (used by join, resume, frame, end and the sweeper) ends with UpdateItem, frees the nameplate
// with DeleteItem, posts "ended" and closes both connections.
const expectations: Record<string, { route?: string; table: string[]; queryIndex?: string; connections: string[] }> = {
  connect: { route: '$connect', table: ['PutItem'], connections: [] },
  disconnect: { route: '$disconnect', table: ['DeleteItem', 'GetItem', 'UpdateItem'], connections: ['DELETE', 'POST'] },
  default: { route: '$default', table: [], connections: [] },
  'create-session': { route: 'createSession', table: ['GetItem', 'PutItem', 'UpdateItem'], connections: [] },
  'join-session': { route: 'joinSession', table: ['DeleteItem', 'GetItem', 'UpdateItem'], connections: ['DELETE', 'POST'] },
  'resume-session': { route: 'resumeSession', table: ['DeleteItem', 'GetItem', 'UpdateItem'], connections: ['DELETE', 'POST'] },
  frame: { route: 'frame', table: ['DeleteItem', 'GetItem', 'UpdateItem'], connections: ['DELETE', 'POST'] },
  'end-session': { route: 'endSession', table: ['DeleteItem', 'GetItem', 'UpdateItem'], connections: ['DELETE', 'POST'] },
  // approve releases the nameplate; all three finish a session found overdue.
  'approve-session': { route: 'approveSession', table: ['DeleteItem', 'GetItem', 'UpdateItem'], connections: ['DELETE', 'POST'] },
  'report-failed-attempt': { route: 'reportFailedAttempt', table: ['DeleteItem', 'GetItem', 'UpdateItem'], connections: ['DELETE', 'POST'] },
  'record-event': { route: 'recordEvent', table: ['DeleteItem', 'GetItem', 'UpdateItem'], connections: ['DELETE', 'POST'] },
  // tells the expert the new limit (POST); finishes a session it finds overdue.
  'extend-session': { route: 'extendSession', table: ['DeleteItem', 'GetItem', 'UpdateItem'], connections: ['DELETE', 'POST'] },
  // counts emails (session and rate items) and appends to the audit log; like the others, it finishes a
  // session it finds overdue (requireLiveSession).
  'email-invitation': { route: 'emailInvitation', table: ['DeleteItem', 'GetItem', 'UpdateItem'], connections: ['DELETE', 'POST'] },
  'list-audit': { route: 'listAudit', table: ['GetItem'], connections: [] },
  // spends a use of the enrolment token (given back if the device cannot be stored), adds the device.
  'enrol-device': { route: 'enrolDevice', table: ['PutItem', 'UpdateItem'], connections: [] },
  // a device's agent: a challenge kept, the signed answer (challenge taken, device marked; its earlier connection closed), heartbeats.
  'request-device-challenge': { route: 'requestDeviceChallenge', table: ['PutItem'], connections: [] },
  'sign-in-device': { route: 'signInDevice', table: ['DeleteItem', 'GetItem', 'UpdateItem'], connections: ['DELETE'] },
  'device-heartbeat': { route: 'deviceHeartbeat', table: ['GetItem', 'UpdateItem'], connections: [] },
  // a technician's ticket burned (DeleteItem), who is signed in on the connection kept (PutItem).
  'sign-in-technician': { route: 'signInTechnician', table: ['DeleteItem', 'PutItem'], connections: [] },
  // help-desk offers: a technician lists the devices its groups may help (the policies and the permitted groups'
  // devices from their collections: Query on the Collections index, then GetItem; never a Scan), offers one
  // (audited, kept, posted to the device); the device's answer is audited and a denial ends the session.
  'list-offerable-devices': { route: 'listOfferableDevices', table: ['GetItem', 'Query'], queryIndex: 'Collections', connections: [] },
  'offer-device': { route: 'offerDevice', table: ['GetItem', 'PutItem', 'UpdateItem'], connections: ['POST'] },
  'answer-offer': { route: 'answerOffer', table: ['DeleteItem', 'GetItem', 'UpdateItem'], connections: ['DELETE', 'POST'] },
  // POST /technician/ticket: verifies the ID token, keeps the ticket's hash.
  'technician-ticket': { table: ['PutItem'], connections: [] },
  // asks @connections (GET) whether a quiet session's connections still exist: $disconnect is best effort.
  sweep: { table: ['DeleteItem', 'GetItem', 'Query', 'UpdateItem'], queryIndex: 'OpenSessions', connections: ['DELETE', 'GET', 'POST'] },
  // the join page counts the lookup with joins (a rate-limit item), then reads the nameplate and its session.
  http: { table: ['UpdateItem'], connections: [] },
};

interface Resource {
  Type: string;
  Properties: Record<string, any>;
  DeletionPolicy?: string;
}
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Renders Fn::Join / Ref / Fn::GetAtt as a readable string, e.g. `wss://${Api}.execute-api.${AWS::Region}…`. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, any>;
  if (node.Ref) return `\${${node.Ref}}`;
  if (node['Fn::GetAtt']) return `\${${node['Fn::GetAtt'].join('.')}}`;
  if (node['Fn::Join']) return (node['Fn::Join'][1] as unknown[]).map(render).join(node['Fn::Join'][0]);
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** Literal strings anywhere inside a template value. */
function literals(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(literals);
  if (value && typeof value === 'object') return Object.values(value).flatMap(literals);
  return [];
}

/** Cloud assemblies (templates and bundles) written to temporary directories, removed after the tests. */
const assemblyDirs: string[] = [];
afterAll(() => Promise.all(assemblyDirs.map((dir) => rm(dir, { recursive: true, force: true }))));

function synthesize(context: Record<string, unknown> = {}, { bundle = false } = {}) {
  // Variants skip bundling (CDK's own switch); the main stack bundles for real, as `cdk synth` does.
  const app = new App({ context: bundle ? context : { ...context, 'aws:cdk:bundling-stacks': [] } });
  assemblyDirs.push(app.outdir);
  const stack = new RelayStack(app, 'Relay');
  const template = Template.fromStack(stack);
  return { app, stack, template, resources: template.toJSON().Resources as Record<string, Resource> };
}

describe('RelayStack', () => {
  let synthesized: ReturnType<typeof synthesize>;
  let resources: Record<string, Resource>;
  /** Function logical id → function name, recovered from the deployed code itself (see beforeAll). */
  const functionFile = new Map<string, string>();
  const fileFunction = new Map<string, string>();
  const builtDir = mkdtemp(join(tmpdir(), 'assist-relay-stack-test-'));

  const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
  const logicalIdOf = (type: string) => ofType(type).map(([id]) => id);
  const functionOf = (file: string) => resources[fileFunction.get(file)!]!;
  /** The function a template value points at (an integration URI, a rule target). */
  const referencedFile = (value: unknown) => {
    const text = JSON.stringify(value);
    const matches = [...functionFile].filter(([id]) => text.includes(`"${id}"`));
    expect(matches, text).toHaveLength(1);
    return matches[0]![1];
  };
  const statementsOf = (file: string): Statement[] => {
    const roleId = functionOf(file).Properties.Role['Fn::GetAtt'][0] as string;
    return ofType('AWS::IAM::Policy')
      .filter(([, policy]) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Statement[]);
  };

  beforeAll(async () => {
    synthesized = synthesize({}, { bundle: true });
    resources = synthesized.resources;
    // Build every handler the way the tests and benchmarks do; the stack's asset for each function must be
    // byte-identical to exactly one of them. That pins both the route → handler wiring and the bundling options.
    const dir = await builtDir;
    const built = await Promise.all(
      functionEntries().map(async (entry) => {
        const { name } = entry;
        const outfile = join(dir, name, 'index.mjs');
        await build(esbuildOptions(entry, outfile));
        return { name, code: await readFile(outfile) };
      }),
    );
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      const assetHash = (fn.Properties.Code.S3Key as string).replace(/\.zip$/, '');
      const deployed = await readFile(join(synthesized.app.outdir, `asset.${assetHash}`, 'index.mjs'));
      const matching = built.filter(({ code }) => code.equals(deployed));
      expect(matching, id).toHaveLength(1);
      functionFile.set(id, matching[0]!.name);
      fileFunction.set(matching[0]!.name, id);
    }
  }, 240_000);

  afterAll(async () => rm(await builtDir, { recursive: true, force: true }));

  describe('synthesis', () => {
    it('is environment-agnostic and needs no context lookups, so it runs offline without credentials', () => {
      const { app, stack } = synthesized;
      expect(Token.isUnresolved(stack.account)).toBe(true);
      expect(Token.isUnresolved(stack.region)).toBe(true);
      expect(app.synth().manifest.missing ?? []).toEqual([]);
    });

    it('deploys every function of the route table exactly once, bundled the way the tests bundle it', () => {
      expect(Object.keys(expectations).sort()).toEqual(functionEntries().map(({ name }) => name));
      expect([...fileFunction.keys()].sort()).toEqual(Object.keys(expectations).sort());
      expect(logicalIdOf('AWS::Lambda::Function')).toHaveLength(Object.keys(expectations).length);
    });
  });

  describe('functions', () => {
    it('run Node 22 on arm64 with source maps, the table name and the default policy', () => {
      const policyEnvironment = Object.fromEntries(
        Object.entries(policyEnvironmentNames)
          .filter(([key]) => key !== 'allowedOrigins')
          .map(([key, name]) => [name, String(defaultPolicy[key as Exclude<keyof RelayPolicy, 'allowedOrigins'>])]),
      );
      for (const [id, file] of functionFile) {
        const { Properties: fn } = resources[id]!;
        expect(fn.Runtime, file).toBe('nodejs22.x');
        expect(fn.Architectures, file).toEqual(['arm64']);
        expect(fn.Handler, file).toBe('index.handler');
        expect(fn.Environment.Variables, file).toMatchObject({
          ...policyEnvironment,
          TABLE_NAME: { Ref: logicalIdOf('AWS::DynamoDB::Table')[0] },
          NODE_OPTIONS: '--enable-source-maps',
        });
        // By default only the relay's own pages may connect from a browser.
        expect(fn.Environment.Variables.ASSIST_ALLOWED_ORIGINS, file).toBeUndefined();
      }
    });

    it('give the frame path the most memory (CPU scales with it) and keep WebSocket handlers inside API Gateway’s 29 s', () => {
      const frameMemory = functionOf('frame').Properties.MemorySize as number;
      for (const [id, file] of functionFile) {
        const { MemorySize, Timeout } = resources[id]!.Properties;
        if (file !== 'frame') expect(MemorySize, file).toBeLessThan(frameMemory);
        if (expectations[file]!.route) expect(Timeout, file).toBeLessThan(29);
      }
      expect(frameMemory).toBeGreaterThanOrEqual(1024);
      expect(functionOf('sweep').Properties.Timeout).toBeLessThanOrEqual(60);
    });

    it('log in Lambda’s JSON format at the info level by default', () => {
      for (const [id, file] of functionFile) {
        expect(resources[id]!.Properties.LoggingConfig, file).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'WARN' });
      }
    });

    it('log to their own log group, kept for a month and retained by default', () => {
      for (const [id, file] of functionFile) {
        const logGroupId = resources[id]!.Properties.LoggingConfig.LogGroup.Ref as string;
        const logGroup = resources[logGroupId]!;
        expect(logGroup.Type, file).toBe('AWS::Logs::LogGroup');
        expect(logGroup.Properties.RetentionInDays, file).toBe(30);
        expect(logGroup.DeletionPolicy, file).toBe('Retain');
      }
      expect(logicalIdOf('AWS::Logs::LogGroup')).toHaveLength(functionFile.size);
    });
  });

  describe('WebSocket API', () => {
    it('routes on $request.body.action', () => {
      synthesized.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'WEBSOCKET',
        RouteSelectionExpression: '$request.body.action',
      });
    });

    it('sends each route to the function built from its route-table entry, with a route response only for two-way routes', () => {
      const webSocketApiId = ofType('AWS::ApiGatewayV2::Api').find(([, api]) => api.Properties.ProtocolType === 'WEBSOCKET')![0];
      const routes = ofType('AWS::ApiGatewayV2::Route').filter(([, route]) => route.Properties.ApiId.Ref === webSocketApiId);
      const routeResponses = ofType('AWS::ApiGatewayV2::RouteResponse').map(([, response]) => response.Properties);
      const wiring = Object.fromEntries(
        routes.map(([routeId, route]) => {
          const integrationId = render(route.Properties.Target).replace(/^integrations\/\$\{(.+)\}$/, '$1');
          const integration = resources[integrationId]!.Properties;
          expect(integration.IntegrationType).toBe('AWS_PROXY');
          const responses = routeResponses.filter((response) => response.RouteId.Ref === routeId);
          // One-way: the connection's lifecycle, frames (no message back per forwarded frame), ending, and the
          // failed-attempt verdict (posted before what follows); every other route answers every message.
          const oneWay = ['$connect', '$disconnect', 'frame', 'endSession', 'reportFailedAttempt'].includes(route.Properties.RouteKey);
          expect(responses.map((response) => response.RouteResponseKey), route.Properties.RouteKey).toEqual(oneWay ? [] : ['$default']);
          return [route.Properties.RouteKey, referencedFile(integration.IntegrationUri)];
        }),
      );
      const expectedWiring = Object.fromEntries(
        Object.entries(expectations).flatMap(([file, { route }]) => (route ? [[route, file]] : [])),
      );
      expect(wiring).toEqual(expectedWiring);
      // Every action of the protocol has its route; anything else lands in $default.
      expect(Object.keys(wiring).sort()).toEqual([...clientActions, '$connect', '$default', '$disconnect'].sort());
    });

    it('deploys the stage "live" automatically, with throttling', () => {
      synthesized.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: 'live',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 500 },
      });
    });
  });

  describe('DynamoDB table', () => {
    it('is keyed, on demand, expires items by TTL, has point-in-time recovery and is retained by default', () => {
      const [[, table]] = ofType('AWS::DynamoDB::Table') as [[string, Resource]];
      expect(table.Properties).toMatchObject({
        KeySchema: [{ AttributeName: tableSchema.partitionKey, KeyType: 'HASH' }],
        AttributeDefinitions: [
          { AttributeName: tableSchema.partitionKey, AttributeType: 'S' },
          { AttributeName: 'openSession', AttributeType: 'S' },
          { AttributeName: 'collection', AttributeType: 'S' },
          { AttributeName: 'member', AttributeType: 'S' },
        ],
        // The sweeper's sparse index of open sessions, and the lists' item collections (devices, policies,
        // enrolment tokens): keys only, so heartbeats write nothing to them.
        GlobalSecondaryIndexes: [
          { IndexName: 'OpenSessions', KeySchema: [{ AttributeName: 'openSession', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } },
          {
            IndexName: 'Collections',
            KeySchema: [
              { AttributeName: 'collection', KeyType: 'HASH' },
              { AttributeName: 'member', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: tableSchema.timeToLiveAttribute, Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
      expect(table.DeletionPolicy).toBe('Retain');
      expect(logicalIdOf('AWS::DynamoDB::Table')).toHaveLength(1);
    });
  });

  describe('IAM', () => {
    const allStatements = () =>
      ofType('AWS::IAM::Policy').flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Statement[]);

    it('grants no wildcard actions', () => {
      for (const statement of allStatements()) {
        for (const action of asArray(statement.Action)) expect(action).not.toContain('*');
      }
    });

    it('grants no wildcard resources except connection ids under @connections', () => {
      for (const statement of allStatements()) {
        for (const resource of asArray(statement.Resource)) {
          if (!literals(resource).some((text) => text.includes('*'))) continue;
          expect(render(resource)).toMatch(/^arn:\$\{AWS::Partition\}:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:\$\{\w+\}\/live\/(POST|DELETE|GET)\/@connections\/\*$/);
        }
      }
    });

    it('gives every function exactly the table actions its code performs, on the table only (Query on its own index only, Scan never)', () => {
      const tableArn = { 'Fn::GetAtt': [logicalIdOf('AWS::DynamoDB::Table')[0], 'Arn'] };
      for (const [file, expected] of Object.entries(expectations)) {
        const tableStatements = statementsOf(file).filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
        const actions = tableStatements.flatMap((s) => asArray(s.Action)).map((action) => action.replace('dynamodb:', ''));
        expect(actions.sort(), file).toEqual(expected.table);
        for (const statement of tableStatements) {
          const isQuery = asArray(statement.Action).includes('dynamodb:Query');
          if (isQuery) expect(asArray(statement.Action), file).toEqual(['dynamodb:Query']);
          expect(asArray(statement.Resource).map(render), file).toEqual([isQuery ? `${render(tableArn)}/index/${expected.queryIndex}` : render(tableArn)]);
        }
      }
    });

    it('lets only the functions that post or disconnect manage connections, and only with the methods they use', () => {
      for (const [file, expected] of Object.entries(expectations)) {
        const resources = statementsOf(file)
          .filter((s) => asArray(s.Action).includes('execute-api:ManageConnections'))
          .flatMap((s) => asArray(s.Resource));
        const methods = resources.map((resource) => render(resource).match(/\/live\/(\w+)\/@connections\/\*$/)![1]);
        expect(methods.sort(), file).toEqual(expected.connections);
      }
    });

    it('lets each function write only its own log group, with no managed policies', () => {
      for (const [file] of Object.entries(expectations)) {
        const logGroupId = functionOf(file).Properties.LoggingConfig.LogGroup.Ref as string;
        const logStatements = statementsOf(file).filter((s) => asArray(s.Action).some((a) => a.startsWith('logs:')));
        expect(logStatements, file).toEqual([
          { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } },
        ]);
        const every = statementsOf(file).flatMap((s) => asArray(s.Action));
        expect(every.filter((a) => !/^(dynamodb|logs|execute-api):/.test(a)), file).toEqual([]);
      }
      for (const [, role] of ofType('AWS::IAM::Role')) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    });
  });

  describe('sweeper', () => {
    it('runs every minute', () => {
      const [[, rule]] = ofType('AWS::Events::Rule') as [[string, Resource]];
      expect(rule.Properties.ScheduleExpression).toBe('rate(1 minute)');
      expect(rule.Properties.State).toBe('ENABLED');
      expect(rule.Properties.Targets.map((target: { Arn: unknown }) => referencedFile(target.Arn))).toEqual(['sweep']);
    });

  });

  describe('@connections', () => {
    it('every function that posts or disconnects is told the API’s own callback URL (right behind a custom domain too)', () => {
      for (const [file, expected] of Object.entries(expectations)) {
        const callbackUrl = functionOf(file).Properties.Environment.Variables.CALLBACK_URL;
        if (expected.connections.length === 0) expect(callbackUrl, file).toBeUndefined();
        else expect(render(callbackUrl), file).toMatch(/^https:\/\/\$\{WebSocketApi\w+\}\.execute-api\.\$\{AWS::Region\}\.\$\{AWS::URLSuffix\}\/live$/);
      }
    });
  });

  describe('HTTP API', () => {
    it('serves the health check, join links and the web console from the http function, technicians’ tickets from their own, throttled', () => {
      const httpApiId = ofType('AWS::ApiGatewayV2::Api').find(([, api]) => api.Properties.ProtocolType === 'HTTP')![0];
      const routes = ofType('AWS::ApiGatewayV2::Route').filter(([, route]) => route.Properties.ApiId.Ref === httpApiId);
      expect(routes.map(([, route]) => route.Properties.RouteKey).sort()).toEqual([
        'GET /',
        'GET /assets/{file}',
        'GET /healthz',
        'GET /help',
        'GET /join/{nameplate}',
        'GET /relay.json',
        'GET /technician',
        'POST /technician/ticket',
      ]);
      for (const [, route] of routes) {
        const integrationId = render(route.Properties.Target).replace(/^integrations\/\$\{(.+)\}$/, '$1');
        expect(referencedFile(resources[integrationId]!.Properties.IntegrationUri)).toBe(route.Properties.RouteKey.startsWith('POST') ? 'technician-ticket' : 'http');
      }
      synthesized.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        ApiId: { Ref: httpApiId },
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      });
    });
  });

  describe('web console', () => {
    it('is built into the http function’s asset, next to the bundle, complete and matching its integrity attributes', () => {
      const assetHash = (functionOf('http').Properties.Code.S3Key as string).replace(/\.zip$/, '');
      const site = loadConsoleSite(join(synthesized.app.outdir, `asset.${assetHash}`, 'console'));
      expect(site.page('wss://relay.example.org/live').body).toMatch(/<script type="module" crossorigin src="\/assets\/console-[\w-]+\.js" integrity="sha384-/);
    });
  });

  describe('alarms', () => {
    const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    const topicRef = () => ({ Ref: logicalIdOf('AWS::SNS::Topic')[0] });

    it('watch every function for errors and throttles and notify the alarm topic', () => {
      for (const [id, file] of functionFile) {
        for (const metric of ['Errors', 'Throttles']) {
          const matching = alarms().filter(
            (alarm) => alarm.Namespace === 'AWS/Lambda' && alarm.MetricName === metric && alarm.Dimensions[0].Value.Ref === id,
          );
          expect(matching, `${file} ${metric}`).toHaveLength(1);
          expect(matching[0]).toMatchObject({ Threshold: 1, AlarmActions: [topicRef()] });
        }
      }
    });

    it('count every function’s error-level log lines (handled failures answer 200) and alarm on the first', () => {
      const filters = ofType('AWS::Logs::MetricFilter').map(([, filter]) => filter.Properties);
      for (const [id, file] of functionFile) {
        const logGroupId = resources[id]!.Properties.LoggingConfig.LogGroup.Ref as string;
        const matching = filters.filter((filter) => filter.LogGroupName.Ref === logGroupId);
        expect(matching, file).toHaveLength(1);
        const filter = matching[0]!;
        expect(filter.FilterPattern, file).toBe('{ $.level = "ERROR" }');
        const [transformation] = filter.MetricTransformations;
        expect(transformation.MetricValue).toBe('1');
        const alarm = alarms().filter((a) => a.Namespace === transformation.MetricNamespace && a.MetricName === transformation.MetricName);
        expect(alarm, file).toHaveLength(1);
        expect(alarm[0]).toMatchObject({ Threshold: 1, Statistic: 'Sum', AlarmActions: [topicRef()] });
      }
    });

    it('watch the WebSocket stage for execution errors and the HTTP API for 5xx, but not integration errors: a refused origin is a 403 by design', () => {
      const apiAlarms = alarms().filter((alarm) => alarm.Namespace === 'AWS/ApiGateway');
      expect(apiAlarms.map((alarm) => alarm.MetricName).sort()).toEqual(['5xx', 'ExecutionError']);
      for (const alarm of apiAlarms) expect(alarm.AlarmActions).toEqual([topicRef()]);
      const stage = apiAlarms.find((alarm) => alarm.MetricName === 'ExecutionError')!.Dimensions.find((d: { Name: string }) => d.Name === 'Stage');
      expect(stage.Value).toBe('live');
    });

    it('watch the table for throttled reads and writes', () => {
      const tableRef = { Ref: logicalIdOf('AWS::DynamoDB::Table')[0] };
      const tableAlarms = alarms().filter((alarm) => alarm.Metrics?.some((m: { MetricStat?: unknown }) => m.MetricStat));
      expect(tableAlarms).toHaveLength(1);
      const alarm = tableAlarms[0]!;
      expect(alarm).toMatchObject({ Threshold: 1, AlarmActions: [topicRef()], TreatMissingData: 'notBreaching' });
      const watched = alarm.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat).map(
        (m: { MetricStat: { Metric: { MetricName: string; Dimensions: unknown } } }) => [m.MetricStat.Metric.MetricName, m.MetricStat.Metric.Dimensions],
      );
      expect(watched.sort()).toEqual([
        ['ReadThrottleEvents', [{ Name: 'TableName', Value: tableRef }]],
        ['WriteThrottleEvents', [{ Name: 'TableName', Value: tableRef }]],
      ]);
      expect(alarm.Metrics.find((m: { Expression?: string }) => m.Expression).Expression).toBe('FILL(reads, 0) + FILL(writes, 0)');
    });
  });

  describe('outputs', () => {
    it('give the wss:// URL of the live stage and the https:// URLs', () => {
      const outputs = synthesized.template.toJSON().Outputs as Record<string, { Value: unknown }>;
      expect(render(outputs.WebSocketUrl!.Value)).toMatch(/^wss:\/\/\$\{WebSocketApi\w+\}\.execute-api\.\$\{AWS::Region\}\.\$\{AWS::URLSuffix\}\/live$/);
      expect(render(outputs.HttpUrl!.Value)).toMatch(/^https:\/\/\$\{HttpApi\w+\}\.execute-api\.\$\{AWS::Region\}\.\$\{AWS::URLSuffix\}$/);
      expect(render(outputs.HealthUrl!.Value)).toMatch(/\/healthz$/);
      expect(outputs.TableName!.Value).toEqual({ Ref: logicalIdOf('AWS::DynamoDB::Table')[0] });
    });
  });

  describe('email', () => {
    it('creates no SES resources and exposes no email environment without sender context', () => {
      expect(logicalIdOf('AWS::SES::EmailIdentity')).toEqual([]);
      expect(logicalIdOf('AWS::SES::ConfigurationSet')).toEqual([]);
      expect(functionOf('email-invitation').Properties.Environment.Variables.ASSIST_EMAIL_FROM).toBeUndefined();
      const sesActions = Object.keys(expectations).flatMap((file) => statementsOf(file).flatMap((s) => asArray(s.Action))).filter((action) => action.startsWith('ses:'));
      expect(sesActions).toEqual([]);
    });

    it('tells every function where clients reach the relay (relay URLs and invitation checks name it)', () => {
      for (const [file] of Object.entries(expectations)) {
        const variables = functionOf(file).Properties.Environment.Variables;
        expect(render(variables.ASSIST_WEBSOCKET_URL), file).toMatch(/^wss:\/\/\$\{WebSocketApi\w+\}\.execute-api\..+\/live$/);
        expect(render(variables.ASSIST_HTTP_URL), file).toMatch(/^https:\/\/\$\{HttpApi\w+\}\.execute-api\.\$\{AWS::Region\}\.\$\{AWS::URLSuffix\}$/);
      }
    });
  });
});

describe('RelayStack context', () => {
  it('passes policy overrides, throttling, removal policy, sender and alarm address through', () => {
    const { stack, template, resources } = synthesize({
      sessionTtlSeconds: '3600',
      idleTimeoutSeconds: 600,
      removalPolicy: 'destroy',
      messageRateLimit: '200',
      senderEmail: 'relay@example.com',
      alarmEmail: 'ops@example.com',
      allowedOrigins: 'https://help.example.org, HTTPS://Desk.Example.com:443',
    });
    const functions = Object.values(resources).filter((resource) => resource.Type === 'AWS::Lambda::Function');
    for (const fn of functions) {
      expect(fn.Properties.Environment.Variables).toMatchObject({
        ASSIST_SESSION_TTL_SECONDS: '3600',
        ASSIST_IDLE_TIMEOUT_SECONDS: '600',
        ASSIST_MAX_SESSION_TTL_SECONDS: String(defaultPolicy.maxSessionTtlSeconds),
        ASSIST_ALLOWED_ORIGINS: 'https://help.example.org,https://desk.example.com',
      });
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: 'live', DefaultRouteSettings: { ThrottlingRateLimit: 200 } });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    template.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });

    template.resourceCountIs('AWS::SES::ConfigurationSet', 1);
    const configurationSetId = Object.entries(resources).find(([, r]) => r.Type === 'AWS::SES::ConfigurationSet')![0];
    template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'relay@example.com',
      ConfigurationSetAttributes: { ConfigurationSetName: { Ref: configurationSetId } },
    });
    const emailFunction = Object.values(resources).find(
      (resource) => resource.Type === 'AWS::Lambda::Function' && resource.Properties.Environment.Variables.ASSIST_EMAIL_FROM,
    )!;
    expect(emailFunction.Properties.Environment.Variables).toMatchObject({
      ASSIST_EMAIL_FROM: 'relay@example.com',
      ASSIST_SES_CONFIGURATION_SET: { Ref: configurationSetId },
    });
    const withSender = functions.filter((fn) => fn.Properties.Environment.Variables.ASSIST_EMAIL_FROM);
    expect(withSender).toHaveLength(1);
    // Only the email function may send, only as the identity and through the configuration set.
    const sesStatements = Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::IAM::Policy')
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[])
      .filter((statement) => asArray(statement.Action).some((action) => action.startsWith('ses:')));
    expect(sesStatements.length).toBe(2);
    for (const statement of sesStatements) {
      expect(asArray(statement.Action).sort()).toEqual(['ses:SendEmail', 'ses:SendRawEmail']);
    }
    // Identities: the account's (in the sandbox SES checks each recipient's verified identity too), but only
    // from the sender's address; the configuration set by name.
    const [identityStatement, configurationSetStatement] = sesStatements as Array<Statement & { Condition?: unknown }>;
    expect(render(stack.resolve(identityStatement!.Resource))).toBe('arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*');
    expect(identityStatement!.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'relay@example.com' } });
    expect(render(stack.resolve(configurationSetStatement!.Resource))).toBe(
      `arn:\${AWS::Partition}:ses:\${AWS::Region}:\${AWS::AccountId}:configuration-set/\${${configurationSetId}}`,
    );

    // Bounces, complaints, rejects and delays go to a topic the operator can subscribe to.
    const topicId = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::SNS::Topic' && id.includes('EventsTopic'))![0];
    template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      ConfigurationSetName: { Ref: configurationSetId },
      EventDestination: {
        Enabled: true,
        MatchingEventTypes: ['bounce', 'complaint', 'reject', 'deliveryDelay'],
        SnsDestination: { TopicARN: { Ref: topicId } },
      },
    });
    expect((template.toJSON().Outputs as Record<string, { Value: unknown }>).EmailEventsTopicArn!.Value).toEqual({ Ref: topicId });

    // Failed sends (SesMailer's email-send-failed lines) are counted in the email function's log group, with an alarm.
    const emailLogGroup = emailFunction.Properties.LoggingConfig.LogGroup.Ref as string;
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: emailLogGroup },
      FilterPattern: '"email-send-failed"',
      MetricTransformations: [{ MetricNamespace: 'AssistRelay', MetricName: 'Relay-EmailSendFailures', MetricValue: '1' }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AssistRelay', MetricName: 'Relay-EmailSendFailures', Threshold: 1 });
  });

  it.each([
    ['an address', 'relay@example.com', 'relay@example.com'],
    ['a domain', 'example.org', 'no-reply@example.org'],
    ['an ARN', 'arn:aws:ses:eu-west-1:123456789012:identity/example.org', 'no-reply@example.org'],
  ])('sends from an existing identity (%s) without creating one', (_kind, senderIdentity, from) => {
    const { stack, template, resources } = synthesize({ senderIdentity });
    template.resourceCountIs('AWS::SES::EmailIdentity', 0);
    expect(stack.emailIdentity).toBeUndefined();
    template.resourceCountIs('AWS::SES::ConfigurationSet', 1);
    const senders = Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((fn) => fn.Properties.Environment.Variables.ASSIST_EMAIL_FROM)
      .filter(Boolean);
    expect(senders).toEqual([from]);
    const conditions = Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::IAM::Policy')
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<{ Condition?: Record<string, Record<string, string>> }>)
      .flatMap((statement) => (statement.Condition ? [statement.Condition] : []));
    expect(conditions).toEqual([{ StringEquals: { 'ses:FromAddress': from } }]);
  });

  it('verifies a sender domain by DKIM, sending as no-reply@ unless told otherwise', () => {
    const { stack, template } = synthesize({ senderDomain: 'example.org' });
    template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'example.org' });
    const senders = Object.values(template.toJSON().Resources as Record<string, Resource>)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((fn) => fn.Properties.Environment.Variables.ASSIST_EMAIL_FROM)
      .filter(Boolean);
    expect(senders).toEqual(['no-reply@example.org']);
    expect(stack.emailIdentity).toBeDefined();
    expect(Object.keys(template.toJSON().Outputs).filter((name) => name.startsWith('DkimRecord'))).toHaveLength(3);
  });

  it('sets every function’s application log level from logLevel', () => {
    const { resources } = synthesize({ logLevel: 'warn' });
    const functions = Object.values(resources).filter((resource) => resource.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(10);
    for (const fn of functions) expect(fn.Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'WARN' });
  });

  it('serves custom domains with the given certificate and tells the functions and the outputs those URLs', () => {
    const certificateArn = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab';
    const { template, resources } = synthesize({ webSocketDomainName: 'ws.relay.example.org', httpDomainName: 'Relay.Example.org', certificateArn });
    template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 2);
    for (const name of ['ws.relay.example.org', 'relay.example.org']) {
      template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
        DomainName: name,
        DomainNameConfigurations: [{ CertificateArn: certificateArn, EndpointType: 'REGIONAL' }],
      });
    }
    template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 2);
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.WebSocketUrl!.Value).toBe('wss://ws.relay.example.org');
    expect(outputs.HttpUrl!.Value).toBe('https://relay.example.org');
    expect(Object.keys(outputs).filter((name) => name.endsWith('DomainTarget')).sort()).toEqual(['HttpDomainTarget', 'WebSocketDomainTarget']);
    for (const fn of Object.values(resources).filter((resource) => resource.Type === 'AWS::Lambda::Function')) {
      const variables = fn.Properties.Environment.Variables;
      expect(variables).toMatchObject({ ASSIST_WEBSOCKET_URL: 'wss://ws.relay.example.org', ASSIST_HTTP_URL: 'https://relay.example.org' });
      // @connections is never reached through the custom domain.
      if (variables.CALLBACK_URL) expect(render(variables.CALLBACK_URL)).toMatch(/\.execute-api\..*\/live$/);
    }
  });

  it('takes allowed origins as a list in cdk.json too', () => {
    const { resources } = synthesize({ allowedOrigins: ['https://help.example.org', 'https://desk.example.com'] });
    for (const fn of Object.values(resources).filter((resource) => resource.Type === 'AWS::Lambda::Function')) {
      expect(fn.Properties.Environment.Variables.ASSIST_ALLOWED_ORIGINS).toBe('https://help.example.org,https://desk.example.com');
    }
  });

  it('tells every function the issuer technicians sign in with, from oidcIssuer, oidcClientId, oidcGroupClaim and oidcLoopbackRedirect', () => {
    const { template, resources } = synthesize({ oidcIssuer: 'https://login.microsoftonline.com/tenant-id/v2.0', oidcClientId: 'client-1', oidcGroupClaim: 'roles' });
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    for (const fn of Object.values(resources).filter((resource) => resource.Type === 'AWS::Lambda::Function')) {
      expect(fn.Properties.Environment.Variables).toMatchObject({ ASSIST_OIDC_ISSUER: 'https://login.microsoftonline.com/tenant-id/v2.0', ASSIST_OIDC_CLIENT_ID: 'client-1', ASSIST_OIDC_GROUP_CLAIM: 'roles' });
      expect(fn.Properties.Environment.Variables.ASSIST_OIDC_LOOPBACK_REDIRECT).toBeUndefined();
    }
    const exact = synthesize({ oidcIssuer: 'https://login.example.org', oidcClientId: 'client-1', oidcLoopbackRedirect: 'http://localhost:7000/cb' });
    for (const fn of Object.values(exact.resources).filter((resource) => resource.Type === 'AWS::Lambda::Function')) {
      expect(fn.Properties.Environment.Variables.ASSIST_OIDC_LOOPBACK_REDIRECT).toBe('http://localhost:7000/cb');
    }
  });

  it('creates a Cognito user pool for technicians when given only cognitoDomainPrefix, and names it the issuer', () => {
    const { template, resources } = synthesize({ cognitoDomainPrefix: 'example-help-desk' });
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.hasResourceProperties('AWS::Cognito::UserPool', { AdminCreateUserConfig: { AllowAdminCreateUserOnly: true } });
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'example-help-desk' });
    const client = Object.values(resources).find((resource) => resource.Type === 'AWS::Cognito::UserPoolClient')!;
    expect(client.Properties).toMatchObject({ GenerateSecret: false, AllowedOAuthFlows: ['code'], AllowedOAuthScopes: ['openid', 'email', 'profile'] });
    expect(client.Properties.CallbackURLs.map(render)).toEqual([expect.stringMatching(/^https:\/\/\$\{HttpApi\w+\}\..*\/technician$/), 'http://localhost:8976/callback']);
    const ticket = Object.values(resources).find((resource) => resource.Type === 'AWS::Lambda::Function' && resource.Properties.Environment.Variables.ASSIST_OIDC_ISSUER)!;
    const variables = ticket.Properties.Environment.Variables;
    expect(render(variables.ASSIST_OIDC_ISSUER)).toMatch(/^https:\/\/cognito-idp\.\$\{AWS::Region\}\.amazonaws\.com\/\$\{TechnicianSignInUserPool\w+\}$/);
    expect(variables.ASSIST_OIDC_GROUP_CLAIM).toBe('cognito:groups');
  });

  it("names in /relay.json, for assist login, exactly the loopback redirect the Cognito pool's client registers", () => {
    const { resources } = synthesize({ cognitoDomainPrefix: 'example-help-desk' });
    const registered: string[] = Object.values(resources)
      .find((resource) => resource.Type === 'AWS::Cognito::UserPoolClient')!
      .Properties.CallbackURLs.map(render);
    const functions = Object.values(resources).filter((resource) => resource.Type === 'AWS::Lambda::Function' && resource.Properties.Environment.Variables.ASSIST_OIDC_ISSUER);
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      // What the function reads and relay.json says, with the deploy-time values (region, pool id, client id) filled in.
      const deployed = Object.fromEntries(
        Object.entries(fn.Properties.Environment.Variables as Record<string, unknown>).map(([name, value]) => [name, render(value).replace(/\$\{AWS::Region\}/, 'eu-west-1').replace(/\$\{[\w.]+\}/g, 'deployed')]),
      );
      const relayInfo = parseRelayInfo(renderRelayInfo({ httpUrl: 'https://relay.example.org', webSocketUrl: 'wss://ws.example.org/live' }, technicianIssuerFromEnvironment(deployed)).body);
      expect(relayInfo.technicianSignIn?.loopbackRedirect).toBe('http://localhost:8976/callback');
      expect(registered).toContain(relayInfo.technicianSignIn?.loopbackRedirect);
    }
  });

  it('leaves technician sign-in off without either', () => {
    const { template, resources } = synthesize({});
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    for (const fn of Object.values(resources).filter((resource) => resource.Type === 'AWS::Lambda::Function')) expect(fn.Properties.Environment.Variables.ASSIST_OIDC_ISSUER).toBeUndefined();
  });

  it.each([
    [{ oidcIssuer: 'http://login.example.org', oidcClientId: 'c' }, /context oidcIssuer "http:\/\/login.example.org" must be an https URL/],
    [{ oidcIssuer: 'https://login.example.org' }, /context oidcIssuer needs oidcClientId/],
    [{ oidcClientId: 'c' }, /go with oidcIssuer/],
    [{ oidcLoopbackRedirect: 'http://localhost:7000/cb' }, /go with oidcIssuer/],
    [{ oidcIssuer: 'https://login.example.org', oidcClientId: 'c', oidcLoopbackRedirect: 'http://example.org:7000/cb' }, /context oidcLoopbackRedirect "http:\/\/example.org:7000\/cb" must be the loopback address/],
    [{ oidcIssuer: 'https://login.example.org', oidcClientId: 'c', oidcLoopbackRedirect: 'http://localhost/cb' }, /context oidcLoopbackRedirect .* written out in full/],
    [{ oidcIssuer: 'https://login.example.org', oidcClientId: 'c', cognitoDomainPrefix: 'desk' }, /give only one of them/],
    [{ cognitoDomainPrefix: 'My Desk' }, /context cognitoDomainPrefix must be lower-case letters/],
    [{ sessionTtlSeconds: 'soon' }, /context sessionTtlSeconds must be a positive whole number/],
    [{ allowedOrigins: '*' }, /context allowedOrigins: "\*": wildcards are not supported/],
    [{ allowedOrigins: 'https://help.example.org/desk' }, /context allowedOrigins: .* must be an origin alone/],
    [{ resumeGraceSeconds: 0 }, /context resumeGraceSeconds must be a positive whole number/],
    [{ sessionTtlSeconds: 100_000 }, /sessionTtlSeconds \(100000s\) exceeds maxSessionTtlSeconds/],
    [{ removalPolicy: 'snapshot' }, /removalPolicy must be "retain" or "destroy"/],
    [{ senderEmail: 'relay' }, /senderEmail must be an email address/],
    [{ senderDomain: 'example.org', senderEmail: 'relay@example.com' }, /must be an address at senderDomain/],
    [{ senderIdentity: 'example.org', senderDomain: 'example.org' }, /give only one of them/],
    [{ senderIdentity: 'relay@example.org', senderEmail: 'other@example.org' }, /must be the address senderIdentity names/],
    [{ senderIdentity: 'example.org', senderEmail: 'relay@example.com' }, /must be an address at senderIdentity \(example.org\)/],
    [{ senderIdentity: 'arn:aws:ses:eu-west-1:123456789012:configuration-set/x' }, /senderIdentity must be an SES identity/],
    [{ logLevel: 'loud' }, /context logLevel must be one of debug, info, warn, error, got "loud"/],
    [{ webSocketDomainName: 'ws.example.org' }, /context certificateArn must be the ARN of an ACM certificate/],
    [{ httpDomainName: 'https://relay.example.org', certificateArn: 'x' }, /context httpDomainName must be a domain name/],
    [{ certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc' }, /certificateArn is used only with webSocketDomainName or httpDomainName/],
  ])('refuses %o before building anything', (context, message) => {
    expect(() => synthesize(context)).toThrow(message);
  });
});

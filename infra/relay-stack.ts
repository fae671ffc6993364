import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { ApiMapping, DomainName, HttpApi, HttpMethod, HttpStage, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { HttpLambdaIntegration, WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { MathExpression } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { ApplicationLogLevel } from 'aws-cdk-lib/aws-lambda';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { EmailIdentity } from 'aws-cdk-lib/aws-ses';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct, Node } from 'constructs';
import { parsePolicy, policyToEnvironment, type RelayPolicy } from '../shared/server/config/policy.js';
import { tableSchema } from '../shared/server/adapters/table.js';
import { alarmOnAny } from './constructs/alarms.js';
import { EmailSending, senderFromContext, type Sender } from './constructs/email-sending.js';
import { RelayFunction } from './constructs/relay-function.js';
import { TechnicianSignIn, technicianSignInFromContext, type TechnicianSignInConfig } from './constructs/technician-sign-in.js';
import { functionNameOf, otherFunctions, webSocketRoutes, type FunctionSpec, type WebSocketRouteSpec } from '../functions/lib/routes.js';
import { functionEntries, projectRoot } from './constructs/bundling.js';
import { DEFAULT_STAGE_THROTTLE } from '../shared/core/stage-throttle.js';
import { TECHNICIAN_TICKET_PATH } from '../shared/core/technician.js';

const STAGE_NAME = 'live';

/** A function of the route table, and what the stack adds for the HTTP function. */
type HandlerSpec = FunctionSpec & { afterBundling?: (outputDir: string) => void };

/**
 * The HTTP function's asset also holds the web console (web/), built next to the bundle, where it reads it.
 */
const httpEndpoint: HandlerSpec = {
  ...otherFunctions.http,
  afterBundling: (outputDir) =>
    execFileSync('npm', ['run', '--silent', 'build:web', '--', '--outDir', join(outputDir, 'console'), '--emptyOutDir'], {
      cwd: projectRoot,
      // The build's progress goes to stderr: `cdk synth` prints the template on stdout.
      stdio: ['ignore', 2, 2],
    }),
};
const httpPaths = ['/healthz', '/relay.json', '/join/{nameplate}', '/', '/help', '/technician', '/assets/{file}'];

const DEFAULT_MEMORY_MB = 512;
// Handlers do a few DynamoDB calls and posts; this bounds a hung call well inside API Gateway's 29 s.
const DEFAULT_TIMEOUT_SECONDS = 10;

/** Every knob, read from CDK context (`-c key=value` or cdk.json) and checked before anything is built. */
interface RelayConfig {
  policy: RelayPolicy;
  /** RETAIN keeps the table (sessions, audit) and logs when the stack is deleted; DESTROY is for throwaway stacks. */
  removalPolicy: RemovalPolicy;
  /** Cost guard: the WebSocket stage's default throttle for each route (steady messages per second, burst bucket). */
  messageRateLimit: number;
  messageBurstLimit: number;
  /** Emailing invitations, when a sender is configured (senderEmail, senderDomain or senderIdentity). */
  sender?: Sender;
  alarmEmail?: string;
  /** Lambda's application log level for every function (context logLevel). */
  logLevel: ApplicationLogLevel;
  /** Custom domains (regional endpoints) for the WebSocket and HTTP APIs, with their ACM certificate in the stack's region. */
  customDomains?: { webSocket?: string; http?: string; certificateArn: string };
  /** Where technicians sign in (oidcIssuer … or cognitoDomainPrefix); none: technician sign-in is off. */
  technicianSignIn?: TechnicianSignInConfig;
}

const LOG_LEVELS: Record<string, ApplicationLogLevel> = {
  debug: ApplicationLogLevel.DEBUG,
  info: ApplicationLogLevel.INFO,
  warn: ApplicationLogLevel.WARN,
  error: ApplicationLogLevel.ERROR,
};

const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

function customDomainsFrom(text: (key: string) => string | undefined): RelayConfig['customDomains'] {
  const webSocket = text('webSocketDomainName')?.toLowerCase();
  const http = text('httpDomainName')?.toLowerCase();
  const certificateArn = text('certificateArn');
  for (const [key, name] of [['webSocketDomainName', webSocket], ['httpDomainName', http]] as const) {
    if (name !== undefined && !DOMAIN_NAME.test(name)) throw new Error(`context ${key} must be a domain name such as relay.example.org, got "${name}"`);
  }
  if (!webSocket && !http) {
    if (certificateArn) throw new Error('context certificateArn is used only with webSocketDomainName or httpDomainName; give one, or leave certificateArn out');
    return undefined;
  }
  if (!certificateArn || !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/.test(certificateArn)) {
    throw new Error(
      `context certificateArn must be the ARN of an ACM certificate in the stack's region covering the custom domain names, got "${certificateArn ?? ''}"`,
    );
  }
  return { webSocket, http, certificateArn };
}

function configFromContext(node: Node): RelayConfig {
  const text = (key: string): string | undefined => {
    const value = node.tryGetContext(key) as unknown;
    return value === undefined || value === '' ? undefined : String(value);
  };
  const positiveInteger = (key: string, fallback: number): number => {
    const raw = text(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`context ${key} must be a positive whole number, got "${raw}"`);
    return value;
  };

  // A list (allowedOrigins) may also be a JSON array in cdk.json: String() joins it with commas.
  const policy = parsePolicy(text, (key) => `context ${key}`);

  const removal = text('removalPolicy') ?? 'retain';
  if (removal !== 'retain' && removal !== 'destroy') {
    throw new Error(`context removalPolicy must be "retain" or "destroy", got "${removal}"`);
  }

  return {
    policy,
    removalPolicy: removal === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    messageRateLimit: positiveInteger('messageRateLimit', DEFAULT_STAGE_THROTTLE.messagesPerSecond),
    messageBurstLimit: positiveInteger('messageBurstLimit', DEFAULT_STAGE_THROTTLE.messageBurst),
    sender: senderFromContext(text),
    alarmEmail: text('alarmEmail'),
    logLevel: logLevelFrom(text('logLevel')),
    customDomains: customDomainsFrom(text),
    technicianSignIn: technicianSignInFromContext(text),
  };
}

function logLevelFrom(raw: string | undefined): ApplicationLogLevel {
  const level = LOG_LEVELS[(raw ?? 'info').toLowerCase()];
  if (!level) throw new Error(`context logLevel must be one of ${Object.keys(LOG_LEVELS).join(', ')}, got "${raw}"`);
  return level;
}

const pascalCase = (file: string) => file.replace(/(^|-)(\w)/g, (_match, _dash, letter: string) => letter.toUpperCase());

/**
 * The whole relay on AWS: a WebSocket API whose routes each invoke one handler, a scheduled sweeper,
 * an HTTP API for relay URLs, one DynamoDB table, optional SES sending, and alarms.
 * Environment-agnostic (no account or region, no lookups), so `cdk synth` needs no credentials.
 */
export class RelayStack extends Stack {
  readonly table: Table;
  /** The sender identity the stack created; absent without sender context or with an existing identity. */
  readonly emailIdentity?: EmailIdentity;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const config = configFromContext(this.node);

    this.table = new Table(this, 'Table', {
      partitionKey: { name: tableSchema.partitionKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: tableSchema.timeToLiveAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // RETAIN by default: deleting the stack must not silently delete live sessions and their audit trail.
      removalPolicy: config.removalPolicy,
    });
    const { openSessionsIndex, collectionsIndex } = tableSchema;
    this.table.addGlobalSecondaryIndex({
      indexName: openSessionsIndex.name,
      partitionKey: { name: openSessionsIndex.partitionKey, type: AttributeType.STRING },
      projectionType: ProjectionType.KEYS_ONLY,
    });
    // Added to a table deployed before it, the index holds only the items written since: `npm run operator --
    // upgrade-table` files the older devices, policies and tokens (docs/deploy.md).
    this.table.addGlobalSecondaryIndex({
      indexName: collectionsIndex.name,
      partitionKey: { name: collectionsIndex.partitionKey, type: AttributeType.STRING },
      sortKey: { name: collectionsIndex.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.KEYS_ONLY,
    });

    const alarmTopic = new Topic(this, 'AlarmTopic');
    if (config.alarmEmail) alarmTopic.addSubscription(new EmailSubscription(config.alarmEmail));
    const alarmAction = new SnsAction(alarmTopic);

    const webSocketApi = new WebSocketApi(this, 'WebSocketApi', {
      apiName: `${this.stackName}-websocket`,
      routeSelectionExpression: '$request.body.action',
    });
    const stage = new WebSocketStage(this, 'WebSocketStage', {
      webSocketApi,
      stageName: STAGE_NAME,
      autoDeploy: true,
      throttle: { rateLimit: config.messageRateLimit, burstLimit: config.messageBurstLimit },
    });

    const httpApi = new HttpApi(this, 'HttpApi', { apiName: `${this.stackName}-http`, createDefaultStage: false });
    const httpStage = new HttpStage(this, 'HttpStage', {
      httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
    });
    // Built from the API id rather than the stage's `url`, which ends in a slash.
    let httpUrl = `https://${httpApi.apiId}.execute-api.${this.region}.${this.urlSuffix}`;
    let webSocketUrl = stage.url;
    const domains = config.customDomains;
    if (domains) {
      const certificate = Certificate.fromCertificateArn(this, 'Certificate', domains.certificateArn);
      // Each custom domain maps its root to the stage: clients use wss://<domain> and https://<domain>.
      const customDomain = (id: string, name: string, map: (domainName: DomainName) => ApiMapping) => {
        const domainName = new DomainName(this, id, { domainName: name, certificate });
        map(domainName);
        new CfnOutput(this, `${id}Target`, {
          value: domainName.regionalDomainName,
          description: `point ${name} here (CNAME, or an alias record)`,
        });
      };
      if (domains.webSocket) {
        customDomain('WebSocketDomain', domains.webSocket, (domainName) => new ApiMapping(this, 'WebSocketMapping', { api: webSocketApi, domainName, stage }));
        webSocketUrl = `wss://${domains.webSocket}`;
      }
      if (domains.http) {
        customDomain('HttpDomain', domains.http, (domainName) => new ApiMapping(this, 'HttpMapping', { api: httpApi, domainName, stage: httpStage }));
        httpUrl = `https://${domains.http}`;
      }
    }

    const signIn = config.technicianSignIn && new TechnicianSignIn(this, 'TechnicianSignIn', { config: config.technicianSignIn, httpUrl });
    const environment: Record<string, string> = {
      TABLE_NAME: this.table.tableName,
      ASSIST_WEBSOCKET_URL: webSocketUrl,
      ASSIST_HTTP_URL: httpUrl,
      ...policyToEnvironment(config.policy),
      ...signIn?.environment,
    };
    const entries = new Map(functionEntries().map((entry) => [entry.name, entry]));
    const relayFunction = (name: string, spec: HandlerSpec, extraEnvironment: Record<string, string> = {}) =>
      new RelayFunction(this, pascalCase(name), {
        entry: entries.get(name)!,
        table: this.table,
        tableActions: spec.tableActions,
        queryIndex: spec.queryIndex,
        connections: spec.connections.length > 0 ? { apiId: webSocketApi.apiId, stageName: stage.stageName, methods: spec.connections } : undefined,
        // The API's own @connections endpoint, which works behind a custom domain too (the event's domain would not).
        environment: { ...environment, ...(spec.connections.length > 0 ? { CALLBACK_URL: stage.callbackUrl } : {}), ...extraEnvironment },
        memorySize: spec.memoryMb ?? DEFAULT_MEMORY_MB,
        timeout: Duration.seconds(spec.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS),
        logLevel: config.logLevel,
        removalPolicy: config.removalPolicy,
        alarmAction,
        afterBundling: spec.afterBundling,
      });

    const email = config.sender && new EmailSending(this, 'Email', { sender: config.sender, alarmAction });
    this.emailIdentity = email?.identity;

    for (const [routeKey, route] of Object.entries(webSocketRoutes) as Array<[string, WebSocketRouteSpec]>) {
      const isEmailRoute = route.clients.includes('sesv2');
      const name = functionNameOf(routeKey);
      const relay = relayFunction(name, route, isEmailRoute ? email?.environment : {});
      if (isEmailRoute) email?.grantSend(relay);
      const handler = relay.function;
      webSocketApi.addRoute(routeKey, {
        integration: new WebSocketLambdaIntegration(`${pascalCase(name)}Integration`, handler),
        // Two-way routes answer the sender with the route response (the reply, or a typed error); one-way
        // routes have none, so a forwarded frame costs no message back (functions/lib/routes.ts, oneWay).
        returnResponse: !route.oneWay,
      });
    }

    const sweep = relayFunction('sweep', otherFunctions.sweep).function;
    new Rule(this, 'SweepSchedule', { schedule: Schedule.rate(Duration.minutes(1)), targets: [new LambdaFunction(sweep)] });

    // Only known paths reach Lambda; anything else gets API Gateway's own 404 at no Lambda cost.
    const httpIntegration = new HttpLambdaIntegration('HttpIntegration', relayFunction('http', httpEndpoint).function);
    for (const path of httpPaths) httpApi.addRoutes({ path, methods: [HttpMethod.GET], integration: httpIntegration });
    // Technicians exchange their ID token for a WebSocket sign-in ticket; the only function that bundles jose.
    const ticketFunction = relayFunction(otherFunctions.technicianTicket.file, otherFunctions.technicianTicket).function;
    httpApi.addRoutes({
      path: TECHNICIAN_TICKET_PATH,
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration('TechnicianTicketIntegration', ticketFunction),
    });

    const apiPeriod = { period: Duration.minutes(5), statistic: 'Sum' };
    // No alarm on the stage's IntegrationError: it counts every 4xx from an integration, and $connect refuses
    // a foreign browser origin with a 403 by design. The functions' own alarms (errors, throttles and
    // error-level log lines) see every failure it would.
    alarmOnAny(this, 'WebSocketExecutionErrorAlarm', stage.metric('ExecutionError', apiPeriod), 'WebSocket API: execution errors in 5 minutes', alarmAction);
    alarmOnAny(this, 'HttpServerErrorAlarm', httpStage.metricServerError(apiPeriod), 'HTTP API: 5xx responses in 5 minutes', alarmAction);
    // On demand is not unlimited: a burst past twice the previous peak, or the table's own limits, throttles.
    const tableThrottles = new MathExpression({
      expression: 'FILL(reads, 0) + FILL(writes, 0)',
      usingMetrics: { reads: this.table.metric('ReadThrottleEvents', apiPeriod), writes: this.table.metric('WriteThrottleEvents', apiPeriod) },
      period: apiPeriod.period,
    });
    alarmOnAny(this, 'TableThrottleAlarm', tableThrottles, 'DynamoDB: throttled reads or writes in 5 minutes', alarmAction);

    new CfnOutput(this, 'WebSocketUrl', { value: webSocketUrl, description: 'wss:// URL clients connect to' });
    new CfnOutput(this, 'HttpUrl', { value: httpUrl, description: 'https:// base URL for relay links' });
    new CfnOutput(this, 'HealthUrl', { value: `${httpUrl}/healthz` });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarmTopic.topicArn, description: 'subscribe to be told about alarms' });
  }
}

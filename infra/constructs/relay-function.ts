import { AssetHashType, DockerImage, Duration, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import type { IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ApplicationLogLevel, Architecture, Code, Function as LambdaFunction, LoggingFormat, Runtime, SystemLogLevel } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { TableIndexName } from '../../shared/server/adapters/table.js';
import { alarmOnAny } from './alarms.js';
import { bundleFunction, projectRoot, type FunctionEntry } from './bundling.js';

export type { ConnectionsMethod, TableAction } from '../../functions/lib/routes.js';
import type { ConnectionsMethod, TableAction } from '../../functions/lib/routes.js';

export interface RelayFunctionProps {
  /** What its bundle is built from (functions/lib/entries.ts). */
  entry: FunctionEntry;
  table: ITable;
  tableActions: readonly TableAction[];
  /** The index its Query reads (routes.ts). */
  queryIndex?: TableIndexName;
  /** The WebSocket stage whose @connections API the function calls, and which methods it uses. */
  connections?: { apiId: string; stageName: string; methods: readonly ConnectionsMethod[] };
  environment: Record<string, string>;
  memorySize: number;
  timeout: Duration;
  /** The lowest level of the handler's log lines Lambda keeps (context logLevel). */
  logLevel: ApplicationLogLevel;
  /** Log groups follow the table's policy: kept by default, deleted with throwaway stacks. */
  removalPolicy: RemovalPolicy;
  alarmAction: IAlarmAction;
  /** Run after bundling, given the asset's folder (e.g. to add files the handler reads). */
  afterBundling?: (outputDir: string) => void;
}

/**
 * One handler: an arm64 Node 22 function bundled from functions/, its own log group with retention,
 * a role that can write only that log group and do only what the handler's code does, and alarms
 * on errors and throttles.
 */
export class RelayFunction extends Construct {
  readonly function: LambdaFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: RelayFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH, removalPolicy: props.removalPolicy });
    this.logGroup = logGroup;
    // An explicit role instead of AWSLambdaBasicExecutionRole, which may create and write any log group.
    const role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    // Item actions on the table itself; Query only on the function's own sparse index, never on the table.
    const itemActions = props.tableActions.filter((action) => action !== 'Query');
    if (itemActions.length > 0) {
      role.addToPrincipalPolicy(new PolicyStatement({ actions: itemActions.map((action) => `dynamodb:${action}`), resources: [props.table.tableArn] }));
    }
    if (props.tableActions.includes('Query')) {
      if (!props.queryIndex) throw new Error(`${id} Queries the table, which no function may: name its index (queryIndex in functions/lib/routes.ts)`);
      role.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${props.table.tableArn}/index/${props.queryIndex}`] }));
    }
    if (props.connections) {
      const { apiId, stageName, methods } = props.connections;
      role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['execute-api:ManageConnections'],
          resources: methods.map((method) =>
            Stack.of(this).formatArn({ service: 'execute-api', resource: apiId, resourceName: `${stageName}/${method}/@connections/*` }),
          ),
        }),
      );
    }

    const { entry, afterBundling } = props;
    this.function = new LambdaFunction(this, 'Function', {
      // Bundled in this process with the esbuild in node_modules (infra/constructs/bundling.ts); the asset is
      // named by the hash of the bundle. The image is never pulled: local bundling always answers.
      code: Code.fromAsset(projectRoot, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          image: DockerImage.fromRegistry('unused-local-bundling'),
          // Part of CDK's asset cache key, so that each function's bundle is its own.
          command: ['bundle', entry.name],
          local: {
            tryBundle: (outputDir) => {
              bundleFunction(entry, outputDir);
              afterBundling?.(outputDir);
              return true;
            },
          },
        },
      }),
      handler: 'index.handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role,
      logGroup,
      // Lambda's JSON log format: each line's level comes from the console method (shared/server/ports/log.ts).
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: props.logLevel,
      systemLogLevelV2: SystemLogLevel.WARN,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
    });

    const period = { period: Duration.minutes(5) };
    // Handled failures (AccessDenied, a DynamoDB outage) become an "internal" reply and a 200, which the
    // Errors metric never sees; each is logged at ERROR level, and these lines are counted.
    const errorLines = logGroup.addMetricFilter('ErrorLines', {
      filterPattern: FilterPattern.stringValue('$.level', '=', 'ERROR'),
      metricNamespace: 'AssistRelay',
      metricName: `${Stack.of(this).stackName}-${id}-ErrorLogLines`,
      metricValue: '1',
    });
    alarmOnAny(this, 'ErrorLinesAlarm', errorLines.metric({ statistic: 'Sum', ...period }), `${id}: error-level log lines in 5 minutes`, props.alarmAction);
    alarmOnAny(this, 'ErrorsAlarm', this.function.metricErrors(period), `${id}: Lambda errors in 5 minutes`, props.alarmAction);
    alarmOnAny(this, 'ThrottlesAlarm', this.function.metricThrottles(period), `${id}: Lambda throttles in 5 minutes`, props.alarmAction);
  }
}

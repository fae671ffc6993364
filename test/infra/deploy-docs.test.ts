// docs/deploy.md's tables of CDK context keys against what the stack reads and the defaults it applies.
import { readFile } from 'node:fs/promises';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Node } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../infra/constructs/bundling.js';
import { RelayStack } from '../../infra/relay-stack.js';
import { defaultPolicy, policyEnvironmentNames, type RelayPolicy } from '../../shared/server/config/policy.js';

/** The rows of the tables headed "context key", by key: the cells after the key, without backticks. */
async function documentedKeys(): Promise<Map<string, string[]>> {
  const text = await readFile(`${projectRoot}docs/deploy.md`, 'utf8');
  const rows = new Map<string, string[]>();
  let inContextTable = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) inContextTable = false;
    else if (line.startsWith('| context key |')) inContextTable = true;
    else if (inContextTable && !line.startsWith('|---')) {
      const [key, ...cells] = line.split('|').slice(1, -1).map((cell) => cell.trim().replaceAll('`', ''));
      rows.set(key!, cells);
    }
  }
  return rows;
}

describe('docs/deploy.md', () => {
  let documented: Map<string, string[]>;
  let contextKeys: string[];
  let template: Template;

  beforeAll(async () => {
    documented = await documentedKeys();
    // Every context key the stack reads, recorded as it reads them (CDK's own keys have ":" or "@").
    const read = new Set<string>();
    const tryGetContext = Node.prototype.tryGetContext;
    Node.prototype.tryGetContext = function (this: Node, key: string) {
      read.add(key);
      return tryGetContext.call(this, key);
    };
    try {
      template = Template.fromStack(new RelayStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Relay'));
    } finally {
      Node.prototype.tryGetContext = tryGetContext;
    }
    contextKeys = [...read].filter((key) => /^[a-z][a-zA-Z]*$/.test(key));
  });

  it('documents every context key the stack reads, and nothing else', () => {
    expect(contextKeys.length).toBeGreaterThan(20);
    expect([...documented.keys()].sort()).toEqual([...contextKeys].sort());
  });

  it('gives each policy key its default and its environment variable', () => {
    for (const [key, variable] of Object.entries(policyEnvironmentNames) as Array<[keyof RelayPolicy, string]>) {
      const [defaultCell, variableCell] = documented.get(key)!;
      const value = defaultPolicy[key];
      expect(defaultCell!.split(' ')[0], key).toBe(typeof value === 'number' ? String(value) : value.length === 0 ? 'none' : value.join(','));
      expect(variableCell, key).toBe(variable);
    }
  });

  it('gives the deployment keys the defaults the stack applies', () => {
    const defaultOf = (key: string) => documented.get(key)![0];
    const [, table] = Object.entries(template.findResources('AWS::DynamoDB::Table'))[0]!;
    expect(defaultOf('removalPolicy')).toBe(String(table.DeletionPolicy).toLowerCase());
    const stages = Object.values(template.findResources('AWS::ApiGatewayV2::Stage', { Properties: { StageName: 'live' } }));
    const { ThrottlingRateLimit, ThrottlingBurstLimit } = stages[0]!.Properties.DefaultRouteSettings;
    expect(defaultOf('messageRateLimit')).toBe(String(ThrottlingRateLimit));
    expect(defaultOf('messageBurstLimit')).toBe(String(ThrottlingBurstLimit));
    for (const key of ['senderEmail', 'senderDomain', 'senderIdentity', 'alarmEmail', 'webSocketDomainName', 'httpDomainName', 'certificateArn']) {
      expect(defaultOf(key), key).toBe('none');
    }
    const [, fn] = Object.entries(template.findResources('AWS::Lambda::Function'))[0]!;
    expect(defaultOf('logLevel')!.toUpperCase()).toBe(fn.Properties.LoggingConfig.ApplicationLogLevel);
  });
});

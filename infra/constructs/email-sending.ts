import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import type { IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FilterPattern } from 'aws-cdk-lib/aws-logs';
import { ConfigurationSet, EmailIdentity, EmailSendingEvent, EventDestination, Identity } from 'aws-cdk-lib/aws-ses';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { alarmOnAny } from './alarms.js';
import type { RelayFunction } from './relay-function.js';

/** Where emailed invitations come from: the From address, and the SES identity that covers it. */
export interface Sender {
  from: string;
  /** Create an identity (an address SES mails a link to, or a domain verified by DKIM), or use one that exists. */
  identity: { create: 'email' | 'domain'; name: string } | { existing: string };
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const IDENTITY_ARN = /^arn:aws[a-z-]*:ses:[a-z0-9-]+:\d{12}:identity\/(.+)$/;

/**
 * The sender from context: senderIdentity names an identity that already exists in the account (an address,
 * a domain or its ARN), which the stack then only uses; senderEmail / senderDomain without it create one.
 */
export function senderFromContext(text: (key: string) => string | undefined): Sender | undefined {
  const senderIdentity = text('senderIdentity');
  const senderDomain = text('senderDomain');
  if (senderIdentity && senderDomain) {
    throw new Error('context senderDomain creates an identity and senderIdentity names an existing one: give only one of them');
  }
  const identityName = senderIdentity && (IDENTITY_ARN.exec(senderIdentity)?.[1] ?? senderIdentity);
  if (senderIdentity?.startsWith('arn:') && !IDENTITY_ARN.test(senderIdentity)) {
    throw new Error(`context senderIdentity must be an SES identity (an address, a domain, or arn:aws:ses:<region>:<account>:identity/<name>), got "${senderIdentity}"`);
  }
  const domain = senderDomain ?? (identityName && !identityName.includes('@') ? identityName : undefined);
  const from = text('senderEmail') ?? (identityName?.includes('@') ? identityName : domain && `no-reply@${domain}`);
  if (!from) return undefined;
  if (!EMAIL.test(from)) throw new Error(`context senderEmail must be an email address, got "${from}"`);
  if (domain && !from.toLowerCase().endsWith(`@${domain.toLowerCase()}`)) {
    throw new Error(`context senderEmail (${from}) must be an address at ${senderDomain ? 'senderDomain' : 'senderIdentity'} (${domain})`);
  }
  if (identityName?.includes('@') && identityName.toLowerCase() !== from.toLowerCase()) {
    throw new Error(`context senderEmail (${from}) must be the address senderIdentity names (${identityName})`);
  }
  if (senderIdentity) return { from, identity: { existing: senderIdentity } };
  return { from, identity: senderDomain ? { create: 'domain', name: senderDomain } : { create: 'email', name: from } };
}

/**
 * SES sending for the email route: the identity (created, or an existing one), a configuration set with
 * reputation metrics whose bounce, complaint, reject and delay events go to an SNS topic the operator can
 * subscribe to, and an alarm on failed sends.
 */
export class EmailSending extends Construct {
  /** The variables the email function reads (ASSIST_EMAIL_FROM, ASSIST_SES_CONFIGURATION_SET). */
  readonly environment: Record<string, string>;
  /** The identity the stack created; undefined with an existing one. */
  readonly identity?: EmailIdentity;
  readonly eventsTopic: Topic;
  private readonly configurationSet: ConfigurationSet;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: { sender: Sender; alarmAction: IAlarmAction },
  ) {
    super(scope, id);
    const { sender } = props;
    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet', { reputationMetrics: true });
    this.eventsTopic = new Topic(this, 'EventsTopic');
    this.configurationSet.addEventDestination('ToTopic', {
      destination: EventDestination.snsTopic(this.eventsTopic),
      events: [EmailSendingEvent.BOUNCE, EmailSendingEvent.COMPLAINT, EmailSendingEvent.REJECT, EmailSendingEvent.DELIVERY_DELAY],
    });
    new CfnOutput(Stack.of(this), 'EmailEventsTopicArn', {
      value: this.eventsTopic.topicArn,
      description: 'bounces, complaints, rejects and delays of emailed invitations: subscribe to see them',
    });
    if ('create' in sender.identity) {
      const { create, name } = sender.identity;
      this.identity = new EmailIdentity(this, 'Identity', {
        identity: create === 'domain' ? Identity.domain(name) : Identity.email(name),
        configurationSet: this.configurationSet,
      });
      // A domain identity is verified by publishing these CNAME records (no hosted-zone lookup here).
      if (create === 'domain') {
        this.identity.dkimRecords.forEach((record, index) => {
          new CfnOutput(Stack.of(this), `DkimRecord${index + 1}`, { value: `${record.name} CNAME ${record.value}` });
        });
      }
    }
    this.environment = { ASSIST_EMAIL_FROM: sender.from, ASSIST_SES_CONFIGURATION_SET: this.configurationSet.configurationSetName };
  }

  /**
   * Lets the function send, only from the sender's address and through the configuration set, and alarms
   * on its failed sends. SES authorizes a send against every identity it involves: the sender's, and in the
   * sandbox each recipient's verified identity too, so the grant covers the account's identities
   * (`identity/*`) and the `ses:FromAddress` condition pins the sender.
   */
  grantSend(fn: RelayFunction): void {
    const stack = Stack.of(this);
    fn.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resources: [stack.formatArn({ service: 'ses', resource: 'identity', resourceName: '*' })],
        conditions: { StringEquals: { 'ses:FromAddress': this.props.sender.from } },
      }),
    );
    fn.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resources: [stack.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: this.configurationSet.configurationSetName })],
      }),
    );
    // SesMailer logs each refused or failed send as `email-send-failed` with the SES error's name.
    const failures = fn.logGroup.addMetricFilter('EmailSendFailures', {
      filterPattern: FilterPattern.literal('"email-send-failed"'),
      metricNamespace: 'AssistRelay',
      metricName: `${stack.stackName}-EmailSendFailures`,
      metricValue: '1',
    });
    alarmOnAny(
      this,
      'SendFailuresAlarm',
      failures.metric({ statistic: 'Sum', period: Duration.minutes(5) }),
      'SES: emailed invitations that failed to send in 5 minutes (the email function logs the SES error name)',
      this.props.alarmAction,
    );
  }
}

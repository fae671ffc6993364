import { Alarm, ComparisonOperator, TreatMissingData, type IAlarmAction, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';

/**
 * Alarms as soon as the metric's sum over its period reaches one. The relay maps expected failures to
 * replies, so any Lambda error, throttle or API Gateway integration error is worth a look.
 */
export function alarmOnAny(scope: Construct, id: string, metric: IMetric, description: string, action: IAlarmAction): Alarm {
  const alarm = new Alarm(scope, id, {
    metric,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
    alarmDescription: description,
  });
  alarm.addAlarmAction(action);
  return alarm;
}

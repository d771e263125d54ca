"""Where Courier's alarms go: one SNS topic, with an optional e-mail subscription."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import OUTPUT_ALARM_TOPIC
from infra.nag import acknowledge


class AlarmTopic(Construct):
    """An SNS topic every alarm notifies, on alarm and on recovery."""

    def __init__(self, scope: Construct, construct_id: str, *, email: str | None) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Topic", display_name="Courier alarms", enforce_ssl=True)
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
            acknowledge(
                self.topic, "Serverless::Serverless-SNSRedrivePolicy",
                "An e-mail subscription: SNS retries e-mail delivery itself, and an undelivered alarm "
                "notice stays visible as the alarm's state in CloudWatch.",
            )
        acknowledge(
            self.topic,
            "AwsSolutions-SNS2",
            (
                "Alarm notifications carry only alarm names and states. CloudWatch cannot publish "
                "to a topic encrypted with the AWS-managed SNS key, and a customer-managed KMS key "
                "for this alone would cost every stage a monthly fee."
            ),
        )
        self._action = actions.SnsAction(self.topic)
        CfnOutput(Stack.of(self), OUTPUT_ALARM_TOPIC, value=self.topic.topic_arn, description="SNS topic every alarm notifies")

    def alarm(
        self,
        scope: Construct,
        construct_id: str,
        *,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        period: Duration | None = None,
    ) -> cloudwatch.Alarm:
        """An alarm at `metric >= threshold` for one period (a minute unless given), wired to the topic both ways."""
        period = period or Duration.minutes(1)
        alarm = cloudwatch.Alarm(
            scope,
            construct_id,
            metric=metric.with_(period=period) if isinstance(metric, cloudwatch.Metric) else metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        return alarm

"""A worker reachable by both of Courier's queues with the same semantics.

QStash delivers signed POSTs to a Function URL (QStash cannot sign SigV4, so the URL is
public and the code verifies every signature); SQS is the fallback, drained by an event
source mapping that reports partial batch failures. Any new worker gets the whole set
from this one construct: function, URL, queue, DLQ, mapping, alarms, permissions.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.config import DLQ_RETENTION_DAYS, MAX_RECEIVE_COUNT, QUEUE_RETENTION_DAYS, CourierConfig, WorkerSpec, worker_output
from infra.constructs.alarms import AlarmTopic
from infra.constructs.lambda_function import CourierFunction
from infra.environment import POWERTOOLS_NAMESPACE, worker_environment
from infra.nag import acknowledge

#: The most named series CloudWatch lets one alarm's metric math read.
MAX_ALARM_SERIES = 10


class QueuedWorker(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: WorkerSpec,
        config: CourierConfig,
        layers: list[lambda_.ILayerVersion],
        alarms: AlarmTopic,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        timeout = Duration.seconds(spec.timeout_seconds)
        self.handler = CourierFunction(
            self,
            "Handler",
            name=spec.name,
            stage=config.stage,
            layers=layers,
            memory_mb=spec.memory_mb,
            timeout=timeout,
            ephemeral_storage_mb=spec.ephemeral_storage_mb,
            log_retention_days=config.log_retention_days,
            environment={**worker_environment(config, spec), **(environment or {})},
            reserved_concurrency=spec.reserved,
        )
        self.function = self.handler.function

        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            retention_period=Duration.days(DLQ_RETENTION_DAYS),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            visibility_timeout=Duration.seconds(spec.visibility_timeout_seconds),
            retention_period=Duration.days(QUEUE_RETENTION_DAYS),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letter_queue, max_receive_count=MAX_RECEIVE_COUNT),
        )
        # A record that meets its job running elsewhere returns when the lease ends
        # (ChangeMessageVisibility: in the event source's consume grant).
        self.handler.add_environment("WORKER_QUEUE_URL", self.queue.queue_url)
        acknowledge(
            self.dead_letter_queue, "Serverless::Serverless-SQSRedrivePolicy",
            "This is the dead-letter queue: its messages are kept 14 days, alarmed on, and redriven by hand.",
        )
        event_source = sources.SqsEventSource(
            self.queue,
            batch_size=spec.batch_size,
            max_concurrency=spec.max_concurrency,
            report_batch_item_failures=True,
        )
        self.function.add_event_source(event_source)
        acknowledge(
            self.function, "Serverless::Serverless-LambdaEventSourceMappingDestination",
            "SQS event sources take no on-failure destination: a message that fails maxReceiveCount "
            "receives moves to the queue's own dead-letter queue (redrive policy above).",
        )

        self.url: lambda_.FunctionUrl | None = (
            self._add_function_url(config.worker_url_parameter(spec.name)) if config.uses_function_urls else None
        )

        self._add_alarms(alarms)
        stack = Stack.of(self)
        if self.url is not None:
            CfnOutput(stack, worker_output(spec.name, "FunctionUrl"), value=self.url.url, description=f"{spec.name} Function URL (QStash destination)")
        CfnOutput(stack, worker_output(spec.name, "QueueUrl"), value=self.queue.queue_url, description=f"{spec.name} SQS queue (fallback)")
        CfnOutput(stack, worker_output(spec.name, "DeadLetterQueueUrl"), value=self.dead_letter_queue.queue_url, description=f"{spec.name} dead-letter queue")

    def _add_function_url(self, parameter_name: str) -> lambda_.FunctionUrl:
        url = self.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        # The function reads its own public URL from here to check a signature's `sub`.
        self.url_parameter = ssm.StringParameter(
            self,
            "PublicUrl",
            parameter_name=parameter_name,
            string_value=url.url,
            description=f"Public Function URL of the Courier {self.spec.name} worker",
        )
        # Granted by name, not through the parameter: the parameter depends on the URL,
        # the URL on the function, and the function on its policy.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ssm:GetParameter"],
                resources=[
                    Stack.of(self).format_arn(service="ssm", resource="parameter", resource_name=parameter_name.lstrip("/"))
                ],
            )
        )
        return url

    def _add_alarms(self, alarms: AlarmTopic) -> None:
        name = self.spec.name
        alarms.alarm(
            self,
            "DeadLetters",
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(statistic="Maximum"),
            threshold=1,
            description=f"{name}: messages in the dead-letter queue (jobs that exhausted their retries)",
        )
        alarms.alarm(
            self,
            "Errors",
            metric=self.function.metric_errors(statistic="Sum"),
            threshold=1,
            period=Duration.minutes(5),
            description=f"{name}: invocations ended in an unhandled error",
        )
        alarms.alarm(
            self,
            "Throttles",
            metric=self.function.metric_throttles(statistic="Sum"),
            threshold=1,
            period=Duration.minutes(5),
            description=f"{name}: invocations throttled",
        )
        alarms.alarm(
            self,
            "DurationP99",
            metric=self.function.metric_duration(statistic="p99"),
            threshold=0.8 * self.spec.timeout_seconds * 1000,
            period=Duration.minutes(15),
            description=f"{name}: the slowest 1 % of invocations near the {self.spec.timeout_seconds} s timeout",
        )
        # The runner counts each dead job by its type (EMF); an alarm takes named series only.
        dead_jobs = {
            f"d{n}": cloudwatch.Metric(namespace=POWERTOOLS_NAMESPACE, metric_name="JobsDead", statistic="Sum",
                                       dimensions_map={"service": name, "type": job_type})
            for n, job_type in enumerate(self.spec.job_types[:MAX_ALARM_SERIES])
        }
        alarms.alarm(
            self,
            "DeadJobs",
            metric=cloudwatch.MathExpression(expression=" + ".join(f"FILL({k}, 0)" for k in dead_jobs), using_metrics=dead_jobs,
                                             period=Duration.hours(1), label="dead jobs"),
            threshold=1,
            description=f"{name}: jobs that ran out of attempts in the last hour (on either transport)",
        )
        alarms.alarm(
            self,
            "OldestMessageAge",
            metric=self.queue.metric_approximate_age_of_oldest_message(statistic="Maximum"),
            threshold=2 * self.spec.timeout_seconds,
            period=Duration.minutes(5),
            description=f"{name}: the fallback queue is not being drained",
        )

"""One CloudWatch dashboard for the whole deployment: a row per worker (its queue, its
dead letters, its function's errors, throttles, p99 duration and concurrency), then the
jobs themselves from the EMF metrics the code writes (enqueued by transport, succeeded,
failed and dead per hour) and what the router spent per hour.

The job metrics are read with SEARCH: Powertools adds each function's `service` as a
dimension and job types come and go, so no fixed list of series could stay complete.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from infra.constructs.queued_worker import QueuedWorker
from infra.environment import POWERTOOLS_NAMESPACE

HOUR = Duration.hours(1)
#: Every job metric the runner and the jobs API write, and the dimension beside `service`.
JOB_METRICS = {"JobsEnqueued": "transport", "JobsSucceeded": "type", "JobsFailed": "type", "JobsDead": "type"}


def search(metric: str, dimension: str, label: str, *, total: bool) -> cloudwatch.MathExpression:
    query = f"SEARCH('{{{POWERTOOLS_NAMESPACE},service,{dimension}}} MetricName=\"{metric}\"', 'Sum', 3600)"
    return cloudwatch.MathExpression(expression=f"SUM({query})" if total else query, label=label, period=HOUR)


class Dashboard(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, name: str, workers: dict[str, QueuedWorker]) -> None:
        super().__init__(scope, construct_id)
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=name, default_interval=Duration.days(1))
        for worker_name, worker in workers.items():
            self.dashboard.add_widgets(*self._worker_row(worker_name, worker))
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Jobs enqueued per hour, by transport", width=8,
                                   left=[search("JobsEnqueued", "transport", "enqueued", total=False)]),
            cloudwatch.GraphWidget(title="Jobs ended per hour", width=8, left=[
                search(metric, "type", metric.removeprefix("Jobs").lower(), total=True) for metric in ("JobsSucceeded", "JobsFailed", "JobsDead")
            ]),
            cloudwatch.GraphWidget(title="Router spend per hour (USD)", width=8,
                                   left=[search("RouterSpendUsd", "route", "spend", total=True)]),
        )

    @staticmethod
    def _worker_row(name: str, worker: QueuedWorker) -> list[cloudwatch.IWidget]:
        function, queue, dead = worker.function, worker.queue, worker.dead_letter_queue
        return [
            cloudwatch.GraphWidget(
                title=f"{name}: fallback queue", width=6,
                left=[queue.metric_approximate_number_of_messages_visible(label="depth", statistic="Maximum")],
                right=[queue.metric_approximate_age_of_oldest_message(label="oldest (s)", statistic="Maximum")],
            ),
            cloudwatch.SingleValueWidget(
                title=f"{name}: dead letters", width=3,
                metrics=[dead.metric_approximate_number_of_messages_visible(label="DLQ depth", statistic="Maximum")],
            ),
            cloudwatch.GraphWidget(
                title=f"{name}: errors and throttles", width=5,
                left=[function.metric_errors(label="errors", statistic="Sum"), function.metric_throttles(label="throttles", statistic="Sum")],
            ),
            cloudwatch.GraphWidget(
                title=f"{name}: duration p99 and concurrency", width=10,
                left=[function.metric_duration(label="p99 (ms)", statistic="p99")],
                right=[function.metric("ConcurrentExecutions", label="concurrency", statistic="Maximum")],
            ),
        ]

"""The job service as a deployed function builds it: the jobs API for requests, every
worker for the children its runs start and the continuations their ends resume."""

from __future__ import annotations

from collections.abc import Mapping

from courier.jobs.dispatch import Dispatcher, ParameterRoutes, Route, routes_from_json
from courier.jobs.intake import WorkerIntake, cached_intake
from courier.jobs.limits import TenantLimitsStore, cached_limits
from courier.jobs.notify import Notifier
from courier.jobs.pacing import RatePacer
from courier.jobs.service import JobService
from courier.jobs.store import JobStore
from courier.jobs.usage import UsageStore
from courier.qstash_client import qstash_client
from courier.secrets import qstash_credentials
from courier.settings import CommonSettings, DispatchSettings

FAILURE_HOOK_PATH = "/v1/hooks/qstash/failure"


def job_routes(settings: DispatchSettings) -> Mapping[str, Route]:
    if settings.job_types_parameter and settings.job_types_json in ("", "{}"):
        return ParameterRoutes(settings.job_types_parameter)
    return routes_from_json(settings.job_types_json)


def job_service(settings: CommonSettings, dispatch: DispatchSettings, store: JobStore) -> JobService:
    failure_url = dispatch.public_api_url + FAILURE_HOOK_PATH if dispatch.public_api_url else None
    return JobService(
        store,
        Dispatcher(job_routes(dispatch), mode=dispatch.dispatch_mode, qstash=qstash_client, failure_callback_url=failure_url,
                   fair=dispatch.fair_share, limits=cached_limits(TenantLimitsStore(settings.table_name)),
                   pacer=RatePacer(settings.table_name), paused=cached_intake(WorkerIntake(settings.table_name))),
        Notifier(qstash_client, qstash_credentials, log=store),
        public_api_url=dispatch.public_api_url,
        bucket=settings.bucket_name,
        cancel_qstash_message=lambda message_id: qstash_client().message.cancel(message_id),
        usage=UsageStore(settings.table_name),
    )

"""jobs_api Lambda: the jobs HTTP API (FastAPI through Mangum). Routes only; the work is
in courier.jobs.service."""

from __future__ import annotations

from courier import coldstart

coldstart.begin()  # no garbage collection while the modules below load (courier/coldstart.py)

import functools
import json
from pathlib import Path
from typing import Annotated, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import Depends, Header, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from courier import __version__, health
from courier.adapters import console
from courier.adapters.http_app import create_app, extend_openapi, lambda_handler
from courier.adapters.http_auth import operator_dependency, optional_tenant_dependency, tenant_dependency
from courier.auth.api_keys import TENANT_ID_RULE, ApiKeyStore, valid_tenant_id
from courier.errors import NON_RETRYABLE_STATUS, CourierError, InvalidInput, Misconfigured, error_body, problems
from courier.inbound.deliveries import DeliveryList, DeliveryLog
from courier.inbound.receive import Answer, Inbound, fill, sample_delivery
from courier.inbound.sealing import Sealer
from courier.inbound.sources import SecretRotation, SourceList, SourceRequest, SourceStore, SourceView
from courier.jobs import catalog
from courier.jobs.dispatch import MAX_DELAY_SECONDS
from courier.jobs.dynamodb_store import DynamoJobStore, job_key
from courier.jobs.idempotency import check_callers_key
from courier.jobs.limits import ALL_WORKERS, TenantLimits, TenantLimitsStore, WorkerLimit, limits_document
from courier.jobs.schemas import add_job_types
from courier.jobs.service import failure_payload
from courier.jobs.views import AllowedHostsView, CallerView, JobFiles, JobList, JobView, ScheduleList, ScheduleView, UploadTicket, UsageView
from courier.jobs.wiring import FAILURE_HOOK_PATH, job_service
from courier.observability import logger
from courier.outbound.allowlist import AllowedHosts
from courier.outbound.calls import CALL_HOOK_PATH, take_answer
from courier.qstash_client import qstash_client
from courier.schedules.service import ScheduleService, firing_payload
from courier.schedules.store import ScheduleStore
from courier.secrets import qstash_credentials
from courier.settings import DispatchMode, JobsApiSettings
from courier.signatures import SignatureVerifier
from courier.uploads import presign_upload

SCHEDULE_HOOK_PATH = "/v1/hooks/qstash/schedule"
EVENT_HOOK_PATH = "/v1/hooks/qstash/event"

settings = JobsApiSettings.from_env()
store = DynamoJobStore(settings.table_name)
keys = ApiKeyStore(settings.table_name)
service = job_service(settings, settings, store)
verifier = SignatureVerifier(qstash_credentials)
allowed_hosts = AllowedHosts(settings.table_name)
schedules = ScheduleService(
    ScheduleStore(settings.table_name), service, qstash=qstash_client, hook_url=settings.public_api_url + SCHEDULE_HOOK_PATH,
)

app = create_app(
    title="Courier jobs API",
    description="Enqueue background jobs, follow their status, retry them, and upload their inputs.",
)
extend_openapi(app, lambda document: add_job_types(document, catalog.load()))
readiness = health.CachedReport(lambda: health.run(health.jobs_api_checks(
    table_name=settings.table_name,
    read_table=lambda: store.client.get_item(TableName=settings.table_name, Key=job_key("healthz")),
    bucket_name=settings.bucket_name,
    public_api_url=settings.public_api_url,
    routes=service.dispatcher.routes,
    mode=service.dispatcher.mode,
    credentials=qstash_credentials,
    qstash=qstash_client,
)))

console.mount(app, console.Console(
    Path(__file__).parent / "console", image_origin=functools.cache(lambda: console.bucket_origin(settings.bucket_name)),
))

Tenant = Annotated[str, Depends(tenant_dependency(keys))]
MaybeTenant = Annotated[str | None, Depends(optional_tenant_dependency(keys))]
Operator = Annotated[None, Depends(operator_dependency(keys))]
limits_store = TenantLimitsStore(settings.table_name)
sources = SourceStore(settings.table_name, Sealer(settings.sources_key))
inbound = Inbound(sources, DeliveryLog(settings.table_name), service)


class HealthCheck(BaseModel):
    """health.Check as the API shows it (detail and fix for callers with a key)."""

    name: str
    status: health.Status
    detail: str | None = None
    fix: str | None = None


class HealthReport(BaseModel):
    status: health.Status
    service: str
    version: str
    checks: list[HealthCheck]


@app.get("/healthz", tags=["health"], summary="What this deployment needs, checked from inside it", response_model=HealthReport)
def healthz(tenant_id: MaybeTenant) -> JSONResponse:
    """200 when every check passes or warns, 503 when one fails. With an API key, each
    check says why and how to fix it; without one, only its verdict."""
    checks = readiness(max_age=health.FRESH_SECONDS if tenant_id else None)
    status = health.overall(checks)
    body: dict[str, Any] = {"status": status, "service": app.title, "version": __version__,
                            "checks": [c.to_dict(detailed=tenant_id is not None) for c in checks]}
    if status == "fail":
        failing = ", ".join(c.name for c in checks if c.status == "fail")
        return JSONResponse({**error_body("misconfigured", f"failing checks: {failing}"), **body}, status_code=503)
    return JSONResponse(body)


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=64, examples=["video.analyze"])
    input: dict[str, Any] = Field(default_factory=dict)
    callbackUrl: str | None = Field(default=None, max_length=2048)
    idempotencyKey: str | None = Field(default=None, min_length=1, max_length=128)
    delaySeconds: int = Field(default=0, ge=0, le=MAX_DELAY_SECONDS)
    transport: DispatchMode | None = Field(
        default=None, description="Force one queue for this job (default: the deployment's dispatch mode)."
    )


class JobAccepted(BaseModel):
    jobId: str
    status: str
    transport: str | None
    statusUrl: str


class EventRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=200, examples=["approval:order-1234"],
                     description="What the jobs wait for (`context.wait_for_event(name, key, ...)`), within the caller's tenant.")
    data: Any = Field(default=None, description="The waiting step's result (JSON, at most 64 KB).")


class EventAccepted(BaseModel):
    key: str
    woke: int = Field(description="Jobs that were waiting for the key and are queued now.")
    keptSeconds: int = Field(description="How long the event counts for a wait that begins after it.")


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contentType: str = Field(examples=["video/mp4"])
    sizeBytes: int = Field(gt=0)
    filename: str | None = Field(default=None, max_length=255)


class ScheduleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cron: str = Field(min_length=1, max_length=200, examples=["0 3 * * *"], description="Five fields, as QStash reads them.")
    type: str = Field(min_length=1, max_length=64, examples=["http.request"])
    input: dict[str, Any] = Field(default_factory=dict)
    timezone: str | None = Field(default=None, max_length=64, examples=["Europe/Berlin"], description="IANA zone (default UTC).")
    callbackUrl: str | None = Field(default=None, max_length=2048)


class AllowedHostsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hosts: list[str] = Field(max_length=100, examples=[["app.example.com", "*.hooks.example.com"]])


def accepted(job: Any) -> JobAccepted:
    return JobAccepted(jobId=job.job_id, status=job.status.value, transport=job.transport, statusUrl=service.status_url(job.job_id))


@app.post("/v1/jobs", status_code=202, response_model=JobAccepted, tags=["jobs"], summary="Enqueue a job")
def enqueue_job(request: JobRequest, tenant_id: Tenant) -> JobAccepted:
    check_callers_key(request.idempotencyKey)
    job, _ = service.submit(
        tenant_id, request.type, request.input, callback_url=request.callbackUrl,
        idempotency_key=request.idempotencyKey, delay_seconds=request.delaySeconds, transport=request.transport,
    )
    logger.info("job accepted", extra={"jobId": job.job_id, "transport": job.transport})
    return accepted(job)


@app.get("/v1/jobs", tags=["jobs"], summary="List the caller's jobs, newest first", response_model=JobList, response_model_exclude_unset=True)
def list_jobs(
    tenant_id: Tenant,
    status: str | None = None,
    type: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> dict[str, Any]:
    jobs, next_cursor = service.list(tenant_id, status=status, job_type=type, cursor=cursor, limit=limit)
    return {"jobs": [service.view(job) for job in jobs], "cursor": next_cursor}


@app.get("/v1/jobs/{job_id}", tags=["jobs"], summary="A job's status, result and steps", response_model=JobView,
         response_model_exclude_unset=True)
def get_job(job_id: str, tenant_id: Tenant) -> dict[str, Any]:
    return service.view(service.get(tenant_id, job_id), steps=True)


@app.get("/v1/jobs/{job_id}/files", tags=["jobs"], summary="Short-lived links to the files a job stored (a video's keyframes)",
         response_model=JobFiles)
def job_files(job_id: str, tenant_id: Tenant) -> dict[str, Any]:
    return service.files(tenant_id, job_id)


@app.post("/v1/jobs/{job_id}/retry", status_code=202, response_model=JobAccepted, tags=["jobs"], summary="Retry a failed or dead job")
def retry_job(job_id: str, tenant_id: Tenant, fromStart: bool = False) -> JobAccepted:
    """A job of steps resumes at the step that failed; `fromStart=true` runs every step anew."""
    return accepted(service.retry(tenant_id, job_id, from_start=fromStart))


@app.post("/v1/events", status_code=202, response_model=EventAccepted, tags=["jobs"], summary="Post an event that waiting jobs wait for")
def post_event(request: EventRequest, tenant_id: Tenant) -> dict[str, Any]:
    return service.post_event(tenant_id, request.key, request.data)


@app.post(EVENT_HOOK_PATH, status_code=202, response_model=EventAccepted, tags=["hooks"],
          summary="Post an event through QStash (signed by QStash, the tenant in the signed URL)")
async def event_by_qstash(request: Request, tenant: str, upstash_signature: Annotated[str | None, Header()] = None) -> Any:
    """For a publisher that holds the deployment's QStash account rather than a tenant's API
    key (a QStash schedule, another service's `publish`): the signature covers the URL, so the
    tenant cannot be changed on the way. An event that can never be taken answers 489, and
    QStash puts it in its DLQ at once instead of retrying it."""
    raw = await request.body()
    verifier.verify(signature=upstash_signature, body=raw, url=f"{settings.public_api_url}{EVENT_HOOK_PATH}?tenant={tenant}")
    try:
        if not valid_tenant_id(tenant):
            raise InvalidInput(TENANT_ID_RULE, code="invalid_tenant")
        try:
            event = EventRequest.model_validate_json(raw)
        except ValidationError as invalid:
            raise InvalidInput(f"not an event ({{\"key\", \"data\"}}): {problems(invalid.errors(), root='body')}", code="invalid_event") from None
        return service.post_event(tenant, event.key, event.data)
    except CourierError as error:
        if error.retryable:
            raise
        return JSONResponse(error.to_body(), status_code=NON_RETRYABLE_STATUS, headers={"Upstash-NonRetryable-Error": "true"})


@app.delete("/v1/jobs/{job_id}", tags=["jobs"], summary="Cancel a queued or waiting job", response_model=JobView, response_model_exclude_unset=True)
def cancel_job(job_id: str, tenant_id: Tenant) -> dict[str, Any]:
    return service.view(service.cancel(tenant_id, job_id))


@app.post("/v1/uploads", tags=["uploads"], summary="A presigned URL to upload a job's input", response_model=UploadTicket)
def create_upload(request: UploadRequest, tenant_id: Tenant) -> dict[str, Any]:
    if not settings.bucket_name:
        raise Misconfigured("no bucket configured for uploads")
    return presign_upload(
        settings.bucket_name, tenant_id, content_type=request.contentType, size_bytes=request.sizeBytes, filename=request.filename
    )


@app.get("/v1/usage", tags=["usage"], summary="Jobs accepted and compute seconds spent this month (or another)", response_model=UsageView)
def get_usage(tenant_id: Tenant, month: Annotated[str | None, Query(examples=["2026-12"], description="YYYY-MM, UTC")] = None) -> dict[str, Any]:
    if service.usage is None:
        raise Misconfigured("usage is not counted in this deployment")
    return service.usage.month(tenant_id, month)


@app.post(FAILURE_HOOK_PATH, tags=["hooks"], summary="QStash failure callback (signed by QStash)")
async def qstash_failure(request: Request, upstash_signature: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    raw = await request.body()
    verifier.verify(signature=upstash_signature, body=raw, url=settings.public_api_url + FAILURE_HOOK_PATH)
    job = service.qstash_gave_up(failure_payload(raw))
    return {"jobId": job.job_id if job else None, "status": job.status.value if job else "ignored"}


@app.post(CALL_HOOK_PATH, tags=["hooks"], summary="A step's call answered (QStash's callback, signed by QStash)")
async def call_answered(request: Request, key: str, upstash_signature: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    raw = await request.body()
    verifier.verify(signature=upstash_signature, body=raw, url=f"{settings.public_api_url}{CALL_HOOK_PATH}?key={key}")
    try:
        payload = json.loads(raw)
    except ValueError:
        raise InvalidInput("not a QStash callback", code="invalid_callback") from None
    taken = take_answer(key, payload if isinstance(payload, dict) else {}, job_tenant=service.tenant_of, deliver=service.deliver_event)
    return {"key": key, "status": "taken" if taken else "ignored"}


@app.post("/v1/schedules", status_code=201, tags=["schedules"], summary="Run a job type on a cron schedule",
          response_model=ScheduleView, response_model_exclude_unset=True)
def create_schedule(request: ScheduleRequest, tenant_id: Tenant) -> dict[str, Any]:
    return schedules.create(
        tenant_id, cron=request.cron, job_type=request.type, job_input=request.input,
        timezone=request.timezone, callback_url=request.callbackUrl,
    ).public_view()


@app.get("/v1/schedules", tags=["schedules"], summary="List the caller's schedules, newest first",
          response_model=ScheduleList, response_model_exclude_unset=True)
def list_schedules(tenant_id: Tenant) -> dict[str, Any]:
    return {"schedules": [s.public_view() for s in schedules.list(tenant_id)]}


@app.get("/v1/schedules/{schedule_id}", tags=["schedules"], summary="A schedule and its last runs",
          response_model=ScheduleView, response_model_exclude_unset=True)
def get_schedule(schedule_id: str, tenant_id: Tenant) -> dict[str, Any]:
    schedule = schedules.get(tenant_id, schedule_id)
    return {**schedule.public_view(), "lastRuns": schedules.last_runs(schedule)}


@app.post("/v1/schedules/{schedule_id}/pause", tags=["schedules"], summary="Stop firing until resumed",
          response_model=ScheduleView, response_model_exclude_unset=True)
def pause_schedule(schedule_id: str, tenant_id: Tenant) -> dict[str, Any]:
    return schedules.set_paused(tenant_id, schedule_id, True).public_view()


@app.post("/v1/schedules/{schedule_id}/resume", tags=["schedules"], summary="Fire again", response_model=ScheduleView, response_model_exclude_unset=True)
def resume_schedule(schedule_id: str, tenant_id: Tenant) -> dict[str, Any]:
    return schedules.set_paused(tenant_id, schedule_id, False).public_view()


@app.delete("/v1/schedules/{schedule_id}", tags=["schedules"], summary="Delete a schedule (its jobs stay)")
def delete_schedule(schedule_id: str, tenant_id: Tenant) -> dict[str, Any]:
    schedules.delete(tenant_id, schedule_id)
    return {"scheduleId": schedule_id, "deleted": True}


@app.get("/v1/me", tags=["settings"], summary="The tenant your API key acts as", response_model=CallerView)
def whoami(tenant_id: Tenant) -> dict[str, Any]:
    return {"tenantId": tenant_id}


@app.get("/v1/allowed-hosts", tags=["settings"], summary="Hosts your http.request jobs may call", response_model=AllowedHostsView)
def get_allowed_hosts(tenant_id: Tenant) -> dict[str, Any]:
    return {"hosts": allowed_hosts.get(tenant_id)}


@app.put("/v1/allowed-hosts", tags=["settings"], summary="Replace the hosts your http.request jobs may call", response_model=AllowedHostsView)
def put_allowed_hosts(request: AllowedHostsRequest, tenant_id: Tenant) -> dict[str, Any]:
    return {"hosts": allowed_hosts.replace(tenant_id, request.hosts)}


class TenantLimitsView(TenantLimits):
    """What an operator set for the tenant, and what each worker applies (`inForce`)."""

    in_force: dict[str, WorkerLimit]
    max_queued_in_force: int


class TenantLimitsChange(BaseModel):
    """The limits to change: a worker's (or every worker's, `*`) fields, and `maxQueued`;
    a field left out stays, a null clears it (the catalogue's applies again)."""

    model_config = ConfigDict(extra="forbid")
    workers: dict[str, dict[str, int | None]] = Field(default_factory=dict)
    maxQueued: int | None = None


def limits_view(limits: TenantLimits) -> dict[str, Any]:
    return limits_document(limits, service.dispatcher.limits_in_force(limits.tenant_id), service.max_queued(limits.tenant_id))


def _tenant_id(tenant_id: str) -> str:
    if not valid_tenant_id(tenant_id):
        raise InvalidInput(TENANT_ID_RULE, code="invalid_tenant")
    return tenant_id


@app.get("/v1/tenants/{tenant_id}/limits", tags=["operator"], response_model=TenantLimitsView, response_model_by_alias=True,
         summary="A tenant's limits: concurrency and rate per worker, jobs that may wait (an operator key)")
def get_limits(tenant_id: str, _: Operator) -> dict[str, Any]:
    return limits_view(limits_store.get(_tenant_id(tenant_id)))


@app.patch("/v1/tenants/{tenant_id}/limits", tags=["operator"], response_model=TenantLimitsView, response_model_by_alias=True,
           summary="Change a tenant's limits, applied to its next jobs without a deploy (an operator key)")
def patch_limits(tenant_id: str, change: TenantLimitsChange, _: Operator) -> dict[str, Any]:
    workers = set(service.dispatcher.limits_in_force(_tenant_id(tenant_id))) | {ALL_WORKERS}
    unknown = sorted(set(change.workers) - workers)
    if unknown:
        raise InvalidInput(f"no worker {unknown[0]!r}; the workers are {', '.join(sorted(workers))}", code="unknown_worker")
    limits = limits_store.set(tenant_id, change.model_dump(exclude_unset=True))
    return limits_view(limits)


@app.post("/v1/sources", status_code=201, tags=["webhooks"], response_model=SourceView, response_model_exclude_none=True,
          summary="A webhook source: a provider's deliveries verified, answered at once and made jobs")
def create_source(request: SourceRequest, tenant_id: Tenant) -> SourceView:
    catalog.load().job_type(request.target.type)
    service.check_request(tenant_id, request.target.type, fill(request.target.input, sample_delivery(request.provider)))
    return sources.create(tenant_id, request).view(settings.public_api_url)


@app.get("/v1/sources", tags=["webhooks"], response_model=SourceList, response_model_exclude_none=True, summary="The caller's webhook sources")
def list_sources(tenant_id: Tenant) -> dict[str, Any]:
    return {"sources": [source.view(settings.public_api_url) for source in sources.list(tenant_id)]}


@app.get("/v1/sources/{source_id}", tags=["webhooks"], response_model=SourceView, response_model_exclude_none=True, summary="A webhook source")
def get_source(source_id: str, tenant_id: Tenant) -> SourceView:
    return sources.get_for_tenant(tenant_id, source_id).view(settings.public_api_url)


@app.delete("/v1/sources/{source_id}", tags=["webhooks"], summary="Delete a webhook source (its deliveries are refused from then on)")
def delete_source(source_id: str, tenant_id: Tenant) -> dict[str, Any]:
    sources.delete(tenant_id, source_id)
    return {"sourceId": source_id, "deleted": True}


@app.post("/v1/sources/{source_id}/secret", tags=["webhooks"], response_model=SourceView, response_model_exclude_none=True,
          summary="Rotate a source's secret: the previous ones stay valid for overlapSeconds")
def rotate_secret(source_id: str, rotation: SecretRotation, tenant_id: Tenant) -> SourceView:
    return sources.rotate(tenant_id, source_id, rotation).view(settings.public_api_url)


@app.get("/v1/sources/{source_id}/deliveries", tags=["webhooks"], response_model=DeliveryList, response_model_exclude_none=True,
         summary="A source's recent deliveries, newest first: accepted, duplicate or refused and why, and their jobs")
def source_deliveries(source_id: str, tenant_id: Tenant) -> dict[str, Any]:
    sources.get_for_tenant(tenant_id, source_id)
    return {"deliveries": inbound.log.recent(source_id)}


def _answer(answer: Answer) -> Response:
    if isinstance(answer.body, str):
        return PlainTextResponse(answer.body, answer.status, headers=answer.headers)
    return JSONResponse(answer.body, answer.status, headers=answer.headers)


@app.post("/v1/inbound/{source_id}", tags=["webhooks"], summary="A provider's webhook (no API key: its signature is the credential)")
async def receive_webhook(source_id: str, request: Request) -> Response:
    return _answer(inbound.receive(source_id, await request.body(), request.headers))


@app.get("/v1/inbound/{source_id}", tags=["webhooks"], summary="Meta's subscription handshake: hub.challenge back when hub.verify_token matches")
def webhook_handshake(source_id: str, request: Request) -> Response:
    return _answer(inbound.handshake(source_id, request.query_params))


@app.post(SCHEDULE_HOOK_PATH, tags=["hooks"], summary="A schedule's firing (signed by QStash)")
async def schedule_fired(
    request: Request, upstash_signature: Annotated[str | None, Header()] = None,
    upstash_message_id: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    raw = await request.body()
    claims = verifier.verify(signature=upstash_signature, body=raw, url=settings.public_api_url + SCHEDULE_HOOK_PATH)
    job = schedules.fire(firing_payload(raw), upstash_message_id, claims)
    return {"jobId": job.job_id if job else None, "status": job.status.value if job else "ignored"}


_http = lambda_handler(app)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _http(event, context)


coldstart.end()

"""The jobs table's layout, shared by the code that reads it and the CDK that creates it:
every item kind's keys are built here and nowhere else (docs/architecture.md, "The table",
shows KEY_SCHEMA; a test compares the two)."""

TABLE_PARTITION_KEY = "pk"
TABLE_SORT_KEY = "sk"
TABLE_TTL_ATTRIBUTE = "ttl"
#: A tenant's jobs with one status, newest first: gsi1pk = TENANT#{t}#STATUS#{s}, gsi1sk = createdAt.
GSI_TENANT_STATUS = "byTenantStatus"
#: All of a tenant's jobs, newest first: gsi2pk = TENANT#{t}, gsi2sk = createdAt.
GSI_TENANT = "byTenant"
GSI_KEYS: dict[str, tuple[str, str]] = {
    GSI_TENANT_STATUS: ("gsi1pk", "gsi1sk"),
    GSI_TENANT: ("gsi2pk", "gsi2sk"),
}

JOB_SK = "JOB"
IDEMPOTENCY_SK = "IDEMPOTENCY"
API_KEY_SK = "APIKEY"
SCHEDULE_SK = "SCHEDULE"
SIGNATURE_SK = "SIGNATURE"
ALLOWED_HOSTS_SK = "ALLOWED_HOSTS"
LIMITS_SK = "LIMITS"
PACE_SK_PREFIX = "PACE#"
FLOW_SK = "FLOW"
SOURCE_SK = "SOURCE"
DELIVERY_SK_PREFIX = "DELIVERY#"
STEP_SK_PREFIX = "STEP#"
EVENT_SK = "EVENT"
WAITER_SK_PREFIX = "WAITER#"


def job_pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def idempotency_pk(tenant_id: str, key: str) -> str:
    return f"IDEMPOTENCY#{tenant_id}#{key}"


def api_key_pk(digest: str) -> str:
    return f"APIKEY#{digest}"


def schedule_pk(schedule_id: str) -> str:
    return f"SCHEDULE#{schedule_id}"


def signature_pk(signature_id: str) -> str:
    return f"SIGNATURE#{signature_id}"


def tenant_pk(tenant_id: str) -> str:
    """The tenant's own partition: its usage by month, its allowed hosts; its jobs' index key."""
    return f"TENANT#{tenant_id}"


def tenant_status_pk(tenant_id: str, status: str) -> str:
    return f"TENANT#{tenant_id}#STATUS#{status}"


def tenant_schedules_pk(tenant_id: str) -> str:
    """The schedules' index partition (apart from the jobs', so a job list never meets them)."""
    return f"TENANT#{tenant_id}#SCHEDULES"


def usage_sk(month: str) -> str:
    return f"USAGE#{month}"


def source_pk(source_id: str) -> str:
    return f"SOURCE#{source_id}"


def tenant_sources_pk(tenant_id: str) -> str:
    """The sources' index partition (apart from the jobs' and the schedules')."""
    return f"TENANT#{tenant_id}#SOURCES"


def delivery_sk(received_ms: int, delivery: str) -> str:
    """A source's deliveries sort by arrival beside the source's own item."""
    return f"{DELIVERY_SK_PREFIX}{received_ms:013d}#{delivery}"


def worker_pk(worker: str) -> str:
    return f"WORKER#{worker}"


def running_sk(worker: str) -> str:
    return f"RUNNING#{worker}"


def pace_sk(worker: str) -> str:
    return f"{PACE_SK_PREFIX}{worker}"


def step_sk(seq: int) -> str:
    """A job's steps sort by position beside the job's own item."""
    return f"{STEP_SK_PREFIX}{seq:04d}"


def event_pk(tenant_id: str, key: str) -> str:
    """An event key's partition: its last event and the jobs waiting for it, read together."""
    return f"EVENT#{tenant_id}#{key}"


def waiter_sk(job_id: str) -> str:
    return f"{WAITER_SK_PREFIX}{job_id}"


#: Every item kind: (what, pk, sk, index keys, why), as the docs show it.
KEY_SCHEMA: tuple[tuple[str, str, str, str, str], ...] = (
    ("job", "JOB#{jobId}", JOB_SK, "gsi1: TENANT#{t}#STATUS#{s} / createdAt#jobId; gsi2: TENANT#{t} / createdAt#jobId",
     "one item per job: its record, status and lease"),
    ("idempotency key", "IDEMPOTENCY#{tenant}#{key}", IDEMPOTENCY_SK, "-", "written with its job in one transaction"),
    ("API key", "APIKEY#{sha256}", API_KEY_SK, "-", "only the key's hash is stored"),
    ("schedule", "SCHEDULE#{scheduleId}", SCHEDULE_SK, "gsi2: TENANT#{t}#SCHEDULES / createdAt", "a tenant's cron and its last runs"),
    ("firing signature", "SIGNATURE#{jti}", SIGNATURE_SK, "-", "binds a firing's signature to its one message id (TTL)"),
    ("step", "JOB#{jobId}", "STEP#{position}", "-", "a durable step's record and result, written only under the run's lease"),
    ("event", "EVENT#{tenant}#{key}", EVENT_SK, "-", "the key's last event, kept for the window (TTL)"),
    ("event waiter", "EVENT#{tenant}#{key}", "WAITER#{jobId}", "-", "a job waiting for the key's event (TTL: its timeout)"),
    ("usage", "TENANT#{tenant}", "USAGE#{yyyy-mm}", "-", "a tenant's month, counted with atomic ADDs"),
    ("allowed hosts", "TENANT#{tenant}", ALLOWED_HOSTS_SK, "-", "where the tenant's http.request jobs may go"),
    ("limits", "TENANT#{tenant}", LIMITS_SK, "-", "what an operator set: concurrency and rate per worker, jobs that may wait"),
    ("pace", "TENANT#{tenant}", "PACE#{worker}", "-", "when the tenant's next job may start on the worker, by SQS (TTL)"),
    ("running", "TENANT#{tenant}", "RUNNING#{worker}", "-", "the tenant's jobs holding a slot on the worker, each to its lease's end (TTL)"),
    ("webhook source", "SOURCE#{sourceId}", SOURCE_SK, "gsi2: TENANT#{t}#SOURCES / createdAt#sourceId",
     "a tenant's inbound webhook source: provider, sealed secrets, target"),
    ("webhook delivery", "SOURCE#{sourceId}", "DELIVERY#{receivedMs}#{n}", "-", "one delivery's verdict and its job (TTL: 7 days)"),
    ("worker intake", "WORKER#{worker}", FLOW_SK, "-", "a worker's intake paused by an operator (its jobs held in SQS)"),
)

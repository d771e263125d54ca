"""web_digest Lambda: runs its job types (functions/web_digest/worker.py) delivered by QStash or SQS."""

from __future__ import annotations

from courier import coldstart

coldstart.begin()  # no garbage collection while the modules below load (courier/coldstart.py)

from courier.adapters.worker_handler import queued_worker_handler
from courier.settings import ModelWorkerSettings

settings = ModelWorkerSettings.from_env()
handler = queued_worker_handler("web_digest", settings)

coldstart.end()

"""video_processor Lambda: runs `video.analyze` jobs delivered by QStash or SQS."""

from __future__ import annotations

from courier import coldstart

coldstart.begin()  # no garbage collection while the modules below load (courier/coldstart.py)

from courier.adapters.worker_handler import queued_worker_handler
from courier.settings import ModelWorkerSettings

# Job code is imported on the first verified job: PyAV and numpy stay out of the cold start.
settings = ModelWorkerSettings.from_env()
handler = queued_worker_handler("video_processor", settings)

coldstart.end()

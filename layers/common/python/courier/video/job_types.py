"""The video worker and its job types, declared beside their inputs and code."""

from __future__ import annotations

from courier.jobs.entries import JobType, Worker
from courier.video.inputs import VideoAnalyzeInput, VideoPartInput
from courier.video.outputs import VideoAnalyzeResult, VideoPartResult

WORKERS: tuple[Worker, ...] = (
    Worker(
        name="video_processor", memory_mb=3008, timeout_seconds=900, ephemeral_storage_mb=4096,
        layers=("deps", "video-deps"), calls_models=True,
    ),
)

JOB_TYPES: tuple[JobType, ...] = (
    JobType("video.analyze", "video_processor", VideoAnalyzeInput, "courier.video.job:analyze_job",
            continuation="courier.video.job:merge_job", upload_fields=("videoKey",), result=VideoAnalyzeResult,
            summary="shot cuts, keyframes, frame metrics, optional captions (long videos in parts)"),
    JobType("video.part", "video_processor", VideoPartInput, "courier.video.job:part_job",
            upload_fields=("videoKey",), result=VideoPartResult, summary="one time range of a long video (video.analyze's child)"),
)

"use client";

import { CourierError, type Job } from "courier-client";
import { useJob } from "courier-client/react";

async function fetchJob(jobId: string): Promise<Job> {
  const response = await fetch(`/api/jobs/${encodeURIComponent(jobId)}`);
  const body = await response.json();
  if (!response.ok) throw new CourierError(response.status, body.error?.code ?? "error", body.error?.message ?? response.statusText);
  return body as Job;
}

export function JobStatus({ jobId }: { jobId: string }) {
  const { status, progress, result, error, done } = useJob(jobId, { fetcher: fetchJob });
  if (!status) return <p>Loading…</p>;
  return (
    <section>
      <p>
        {status}
        {progress && !done ? ` · ${progress.stage} ${Math.round(progress.fraction * 100)}%` : null}
      </p>
      {status === "succeeded" && result ? <pre>{JSON.stringify(result, null, 2)}</pre> : null}
      {error ? <p role="alert">{error.message}</p> : null}
    </section>
  );
}

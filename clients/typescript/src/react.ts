/** `useJob`: a job's status, progress and result in a React component, polled with backoff
 * until it ends, and not at all while the tab is hidden. The browser must not hold an API
 * key: `fetcher` calls your own route, which asks Courier (`courier.jobs.get`) server-side. */
import { useEffect, useRef, useState } from "react";

import { isTerminal, type Job, type JobProgress } from "./client.js";
import { CourierError } from "./errors.js";

export interface UseJobOptions {
  fetcher: (jobId: string) => Promise<Job>;
  /** First poll interval, growing by half each poll up to maxIntervalMs (defaults 1000, 10000). */
  intervalMs?: number;
  maxIntervalMs?: number;
}

export interface JobState {
  job: Job | undefined;
  status: Job["status"] | undefined;
  progress: JobProgress | undefined;
  result: Job["result"] | undefined;
  /** The job's own error when it failed, or the last fetch's. */
  error: Job["error"] | Error | undefined;
  /** The job ended (succeeded, failed, dead, cancelled), or can never be read (404). */
  done: boolean;
}

const EMPTY: JobState = { job: undefined, status: undefined, progress: undefined, result: undefined, error: undefined, done: false };

function hidden(): boolean {
  return typeof document !== "undefined" && document.visibilityState === "hidden";
}

export function useJob(jobId: string | null | undefined, options: UseJobOptions): JobState {
  const [state, setState] = useState<JobState>(EMPTY);
  const { intervalMs = 1000, maxIntervalMs = 10_000 } = options;
  // The latest fetcher, read at each poll: an inline `(id) => fetch(...)` is a new function
  // every render, and must not restart the polling.
  const fetcher = useRef(options.fetcher);
  fetcher.current = options.fetcher;

  useEffect(() => {
    setState(EMPTY);
    if (!jobId) return;
    let stopped = false;
    let inFlight = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let interval = intervalMs;

    const schedule = () => {
      if (stopped || hidden()) return; // visibilitychange polls again when the tab is back
      timer = setTimeout(poll, interval);
      interval = Math.min(maxIntervalMs, interval * 1.5);
    };
    const poll = async () => {
      timer = undefined;
      inFlight = true;
      try {
        const job = await fetcher.current(jobId);
        if (stopped) return;
        const done = isTerminal(job.status);
        setState({ job, status: job.status, progress: job.progress ?? undefined, result: job.result ?? undefined,
                   error: job.error ?? undefined, done });
        if (!done) schedule();
      } catch (error) {
        if (stopped) return;
        const gone = error instanceof CourierError && error.status === 404;
        setState((previous) => ({ ...previous, error: error instanceof Error ? error : new Error(String(error)), done: gone }));
        if (!gone) schedule();
      } finally {
        inFlight = false;
      }
    };
    const onVisibility = () => {
      if (hidden()) {
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
      } else if (timer === undefined && !inFlight && !stopped) {
        interval = intervalMs;
        void poll();
      }
    };

    if (typeof document !== "undefined") document.addEventListener("visibilitychange", onVisibility);
    if (!hidden()) void poll();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      if (typeof document !== "undefined") document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [jobId, intervalMs, maxIntervalMs]);

  return state;
}

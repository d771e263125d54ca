import { CourierError } from "./errors.js";
import type { JobTypes } from "./generated/job-types.js";
import type { components as JobsApi } from "./generated/jobs-api.js";
import type { components as RouterApi } from "./generated/router.js";
import { call, type Transport } from "./http.js";

type Schemas = JobsApi["schemas"];
export type Job = Schemas["JobView"];
export type JobStatus = Job["status"];
export type JobProgress = NonNullable<Job["progress"]>;
export type JobList = Schemas["JobList"];
export type JobAccepted = Schemas["JobAccepted"];
/** Every job type the client knows, and each one's input (from the catalogue, through the OpenAPI document). */
export type { JobTypes };
export type JobTypeName = keyof JobTypes;
export type JobInputOf<T extends JobTypeName> = JobTypes[T]["input"];
export type JobResultOf<T extends JobTypeName> = JobTypes[T]["result"];
/** A job of one type: its `result`, once it succeeded, is the type's own (`jobIs` tells). */
export type JobOf<T extends JobTypeName> = Omit<Job, "type" | "result"> & { type: T; result?: JobResultOf<T> | null };
/** A job request: a union on `type`, so a misspelt type or input field fails to compile. */
export type EnqueueRequest = { [T in JobTypeName]: Omit<Schemas["JobRequest"], "type" | "input"> & { type: T; input: JobInputOf<T> } }[JobTypeName];
export type UploadTicket = Schemas["UploadTicket"];
export type JobFiles = Schemas["JobFiles"];
export type Usage = Schemas["UsageView"];
export type Schedule = Schemas["ScheduleView"];
export type ScheduleRequest = {
  [T in JobTypeName]: Omit<Schemas["ScheduleRequest"], "type" | "input"> & { type: T; input: JobInputOf<T> };
}[JobTypeName];
export type RouteInput = RouterApi["schemas"]["AiRouteInput"];
/** An inbound webhook source: its `url` is what the provider sends to; its secrets are never shown. */
export type Source = Schemas["SourceView"];
export type SourceRequest = Schemas["SourceRequest"];
/** One delivery to a source: accepted, duplicate or refused (and why), and its job. */
export type Delivery = Schemas["Delivery"];

/** What `POST /v1/route` answers: the routed reply, its deployment, usage, cost and every attempt. */
export type RouteAnswer = RouterApi["schemas"]["RouteAnswer"];

/** Whether `job` is of `type`, narrowing its `result` to that type's: `if (jobIs(job, "video.analyze")) job.result?.cuts`. */
export const jobIs = <T extends JobTypeName>(job: Job, type: T): job is JobOf<T> => job.type === type;

export const TERMINAL_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "dead", "cancelled"];
export const isTerminal = (status: JobStatus): boolean => TERMINAL_STATUSES.includes(status);

export interface CourierOptions {
  /** The stack's ApiUrl (default: COURIER_URL). */
  baseUrl?: string;
  /** A tenant's API key (default: COURIER_API_KEY). Keep it on the server. */
  apiKey?: string;
  fetch?: typeof fetch;
  /** Tries after the first for 429, 503 and network errors (default 3)... */
  retries?: number;
  /** ...within this many ms of waiting per call (default 30000). */
  retryBudgetMs?: number;
}

export interface WaitOptions {
  /** Give up (a CourierError `timeout`) after this long (default 5 minutes). */
  timeoutMs?: number;
  /** First poll interval; it grows by half each poll up to maxIntervalMs (defaults 500, 5000). */
  intervalMs?: number;
  maxIntervalMs?: number;
  /** Called with each new progress report the job makes. */
  onProgress?: (progress: JobProgress, job: Job) => void;
  signal?: AbortSignal;
}

function environment(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.[name] || undefined;
}

const enc = encodeURIComponent;

export class Courier {
  readonly #transport: Transport;

  constructor(options: CourierOptions = {}) {
    const baseUrl = options.baseUrl ?? environment("COURIER_URL");
    const apiKey = options.apiKey ?? environment("COURIER_API_KEY");
    if (!baseUrl || !apiKey) {
      throw new CourierError(0, "misconfigured", "give baseUrl and apiKey (or set COURIER_URL and COURIER_API_KEY)");
    }
    this.#transport = {
      baseUrl, apiKey, fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      retry: { retries: options.retries ?? 3, budgetMs: options.retryBudgetMs ?? 30_000 },
    };
  }

  #call<T>(method: string, path: string, body?: unknown, query?: Record<string, unknown>): Promise<T> {
    return call<T>(this.#transport, method, path, body, query);
  }

  readonly jobs = {
    enqueue: (request: EnqueueRequest): Promise<JobAccepted> => this.#call("POST", "/v1/jobs", request),
    get: (jobId: string): Promise<Job> => this.#call("GET", `/v1/jobs/${enc(jobId)}`),
    list: (filter: { status?: JobStatus; type?: string; cursor?: string; limit?: number } = {}): Promise<JobList> =>
      this.#call("GET", "/v1/jobs", undefined, filter),
    retry: (jobId: string): Promise<JobAccepted> => this.#call("POST", `/v1/jobs/${enc(jobId)}/retry`),
    cancel: (jobId: string): Promise<Job> => this.#call("DELETE", `/v1/jobs/${enc(jobId)}`),
    /** Short-lived (5 minute) links to the files a finished job stored: a video's keyframes. */
    files: (jobId: string): Promise<JobFiles> => this.#call("GET", `/v1/jobs/${enc(jobId)}/files`),
    /** Polls until the job ends (succeeded, failed, dead or cancelled) and returns it. */
    wait: async (jobId: string, options: WaitOptions = {}): Promise<Job> => {
      const deadline = Date.now() + (options.timeoutMs ?? 300_000);
      let interval = options.intervalMs ?? 500;
      let seen: string | undefined;
      for (;;) {
        options.signal?.throwIfAborted();
        const job = await this.jobs.get(jobId);
        if (job.progress && job.progress.updatedAt !== seen) {
          seen = job.progress.updatedAt;
          options.onProgress?.(job.progress, job);
        }
        if (isTerminal(job.status)) return job;
        if (Date.now() + interval > deadline) {
          throw new CourierError(0, "timeout", `job ${jobId} is still ${job.status} after ${options.timeoutMs ?? 300_000} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, interval));
        interval = Math.min(options.maxIntervalMs ?? 5000, interval * 1.5);
      }
    },
  };

  readonly uploads = {
    create: (request: { contentType: string; sizeBytes: number; filename?: string }): Promise<UploadTicket> =>
      this.#call("POST", "/v1/uploads", request),
    /** Presign and PUT in one: the key to give a job (`videoKey`, `uploadKey`). */
    put: async (body: Blob | ArrayBuffer | Uint8Array, options: { contentType: string; filename?: string }): Promise<UploadTicket> => {
      const size = body instanceof Blob ? body.size : body.byteLength;
      const ticket = await this.uploads.create({ contentType: options.contentType, sizeBytes: size, ...(options.filename ? { filename: options.filename } : {}) });
      // fetch sets Content-Length itself (and refuses to be told it).
      const headers = Object.fromEntries(Object.entries(ticket.headers).filter(([name]) => name.toLowerCase() !== "content-length"));
      const response = await this.#transport.fetch(ticket.uploadUrl, { method: ticket.method, headers, body: body as BodyInit });
      if (!response.ok) {
        throw new CourierError(response.status, "upload_failed", `the upload was refused (${response.status}): ${(await response.text()).slice(0, 300)}`);
      }
      return ticket;
    },
  };

  readonly schedules = {
    create: (request: ScheduleRequest): Promise<Schedule> => this.#call("POST", "/v1/schedules", request),
    get: (scheduleId: string): Promise<Schedule> => this.#call("GET", `/v1/schedules/${enc(scheduleId)}`),
    list: async (): Promise<Schedule[]> => (await this.#call<{ schedules: Schedule[] }>("GET", "/v1/schedules")).schedules,
    pause: (scheduleId: string): Promise<Schedule> => this.#call("POST", `/v1/schedules/${enc(scheduleId)}/pause`),
    resume: (scheduleId: string): Promise<Schedule> => this.#call("POST", `/v1/schedules/${enc(scheduleId)}/resume`),
    delete: async (scheduleId: string): Promise<void> => {
      await this.#call("DELETE", `/v1/schedules/${enc(scheduleId)}`);
    },
  };

  /** Inbound webhooks: a provider's deliveries verified on their raw body, answered at once, made jobs. */
  readonly sources = {
    create: (request: SourceRequest): Promise<Source> => this.#call("POST", "/v1/sources", request),
    get: (sourceId: string): Promise<Source> => this.#call("GET", `/v1/sources/${enc(sourceId)}`),
    list: async (): Promise<Source[]> => (await this.#call<{ sources: Source[] }>("GET", "/v1/sources")).sources,
    /** A new secret; the previous ones stay valid for `overlapSeconds` (default a day). */
    rotate: (sourceId: string, secret: string, overlapSeconds?: number): Promise<Source> =>
      this.#call("POST", `/v1/sources/${enc(sourceId)}/secret`, overlapSeconds === undefined ? { secret } : { secret, overlapSeconds }),
    deliveries: async (sourceId: string): Promise<Delivery[]> =>
      (await this.#call<{ deliveries: Delivery[] }>("GET", `/v1/sources/${enc(sourceId)}/deliveries`)).deliveries,
    delete: async (sourceId: string): Promise<void> => {
      await this.#call("DELETE", `/v1/sources/${enc(sourceId)}`);
    },
  };

  readonly allowedHosts = {
    get: async (): Promise<string[]> => (await this.#call<{ hosts: string[] }>("GET", "/v1/allowed-hosts")).hosts,
    set: async (hosts: string[]): Promise<string[]> => (await this.#call<{ hosts: string[] }>("PUT", "/v1/allowed-hosts", { hosts })).hosts,
  };

  /** Jobs accepted and compute seconds spent in a month (`YYYY-MM`, default this one): to bill your own users. */
  usage(month?: string): Promise<Usage> {
    return this.#call("GET", "/v1/usage", undefined, month ? { month } : {});
  }

  /** A prompt routed by task type (`generation`, `reasoning`, `vision`, ...) to a model. */
  route(request: Omit<RouteInput, "type"> & { task: string }): Promise<RouteAnswer> {
    const { task, ...rest } = request;
    return this.#call("POST", "/v1/route", { type: task, ...rest });
  }
}

/** Every failure the client reports: the API's `{error: {code, message}}` with its status,
 * or one of the client's own (`network_error`, `timeout`, `job_failed`). */
export class CourierError extends Error {
  readonly status: number;
  readonly code: string;
  /** Seconds the API asked to wait before trying again (Retry-After), when it said. */
  readonly retryAfter: number | undefined;

  constructor(status: number, code: string, message: string, retryAfter?: number) {
    super(message);
    this.name = "CourierError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  /** 429, 503 and network failures: the same request may succeed later. */
  get retryable(): boolean {
    return this.status === 429 || this.status === 503 || this.status === 0;
  }
}

/** Retry-After in seconds (delta or HTTP date), or undefined. */
export function retryAfterSeconds(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}

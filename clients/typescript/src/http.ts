import { CourierError, retryAfterSeconds } from "./errors.js";

export interface RetryPolicy {
  /** Tries after the first, for 429, 503 and network errors (default 3). */
  retries: number;
  /** The most time one call may spend waiting to try again, in ms (default 30 s). */
  budgetMs: number;
}

export interface Transport {
  baseUrl: string;
  apiKey: string;
  fetch: typeof fetch;
  retry: RetryPolicy;
}

const BASE_DELAY_MS = 250;
const MAX_DELAY_MS = 8000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One API call: JSON in, JSON out, Courier's error shape turned into a CourierError, and
 * 429/503 tried again after Retry-After (or a jittered backoff) within the policy's budget. */
export async function call<T>(transport: Transport, method: string, path: string, body?: unknown, query?: Record<string, unknown>): Promise<T> {
  const url = new URL(transport.baseUrl.replace(/\/+$/, "") + path);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
  }
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    let error: CourierError;
    try {
      const response = await transport.fetch(url, {
        method,
        headers: { authorization: `Bearer ${transport.apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (response.ok) return (await response.json()) as T;
      error = await errorOf(response);
    } catch (caught) {
      if (caught instanceof CourierError) throw caught;
      // Which API did not answer, and why (undici's "fetch failed" hides the cause in `cause`).
      const reason = caught instanceof Error ? [caught.message, (caught.cause as Error | undefined)?.message].filter(Boolean).join(": ") : String(caught);
      error = new CourierError(0, "network_error", `${method} ${url.origin}${url.pathname} did not answer (${reason})`);
    }
    const waitMs = error.retryAfter !== undefined
      ? error.retryAfter * 1000
      : Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt) * (0.5 + Math.random() / 2);
    if (!error.retryable || attempt >= transport.retry.retries || Date.now() - started + waitMs > transport.retry.budgetMs) throw error;
    await sleep(waitMs);
  }
}

async function errorOf(response: Response): Promise<CourierError> {
  const retryAfter = retryAfterSeconds(response.headers.get("retry-after"));
  const text = await response.text();
  try {
    const detail = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
    if (detail?.code) return new CourierError(response.status, detail.code, detail.message ?? detail.code, retryAfter);
  } catch {
    // not Courier's shape (a proxy's page, say): keep the start of it
  }
  return new CourierError(response.status, `http_${response.status}`, text.slice(0, 300) || response.statusText, retryAfter);
}

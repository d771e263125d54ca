/** A job's outcome POSTed to its `callbackUrl`, verified: through QStash or, when QStash was
 * down, directly from Courier, both signed with the QStash signing keys (current or next),
 * over the body and for this URL. Built on the official Receiver (`@upstash/qstash`, a peer
 * dependency of this entry point only). */
import { Receiver } from "@upstash/qstash";

import { CourierError } from "./errors.js";
import type { Job } from "./client.js";

export interface CallbackOutcome {
  jobId: string;
  type: string;
  status: "succeeded" | "failed" | "dead" | "cancelled";
  result?: Record<string, unknown>;
  resultUrl?: string;
  error?: NonNullable<Job["error"]>;
  finishedAt: string;
}

export interface SigningKeys {
  currentSigningKey: string;
  nextSigningKey: string;
  /** The URL the signature is for, when the request's own differs (a proxy in front). */
  url?: string;
  /** Seconds of clock difference tolerated (default 0, the Receiver's). */
  clockTolerance?: number;
}

/** The outcome, or a CourierError `invalid_signature` (401) / `invalid_callback` (400). */
export async function verifyCallback(request: Request, keys: SigningKeys): Promise<CallbackOutcome> {
  const signature = request.headers.get("upstash-signature");
  if (!signature) throw new CourierError(401, "invalid_signature", "the callback carries no Upstash-Signature");
  const body = await request.text();
  const receiver = new Receiver({ currentSigningKey: keys.currentSigningKey, nextSigningKey: keys.nextSigningKey });
  try {
    await receiver.verify({ signature, body, url: keys.url ?? request.url, clockTolerance: keys.clockTolerance ?? 0 });
  } catch (error) {
    throw new CourierError(401, "invalid_signature", `the callback's signature does not verify: ${error instanceof Error ? error.message : error}`);
  }
  let outcome: unknown;
  try {
    outcome = JSON.parse(body);
  } catch {
    throw new CourierError(400, "invalid_callback", "the callback body is not JSON");
  }
  const data = outcome as Partial<CallbackOutcome>;
  if (typeof data?.jobId !== "string" || typeof data.status !== "string") {
    throw new CourierError(400, "invalid_callback", "the callback body is not a Courier job outcome");
  }
  return data as CallbackOutcome;
}

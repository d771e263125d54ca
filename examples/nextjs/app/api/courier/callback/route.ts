// Courier POSTs each job's outcome here (through QStash, or directly when QStash is down):
// verified with the QStash signing keys, then stored.
import { CourierError } from "courier-client";
import { verifyCallback } from "courier-client/callbacks";

import { saveOutcome } from "@/lib/outcomes";

export async function POST(request: Request): Promise<Response> {
  try {
    const outcome = await verifyCallback(request, {
      currentSigningKey: process.env.QSTASH_CURRENT_SIGNING_KEY ?? "",
      nextSigningKey: process.env.QSTASH_NEXT_SIGNING_KEY ?? "",
    });
    await saveOutcome(outcome);
    return new Response(null, { status: 204 });
  } catch (error) {
    if (error instanceof CourierError) {
      return Response.json({ error: { code: error.code, message: error.message } }, { status: error.status });
    }
    throw error;
  }
}

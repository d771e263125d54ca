// What the browser's useJob polls: the job, read server-side with the API key.
import { CourierError, type Job } from "courier-client";

import { courier } from "@/lib/courier";

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await params;
  try {
    const job: Job = await courier.jobs.get(id);
    return Response.json(job);
  } catch (error) {
    if (error instanceof CourierError) {
      return Response.json({ error: { code: error.code, message: error.message } }, { status: error.status || 502 });
    }
    throw error;
  }
}

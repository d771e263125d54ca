// POST a form with a `video` file: uploaded to Courier (presigned PUT), then analysed.
import { CourierError } from "courier-client";

import { courier } from "@/lib/courier";

export async function POST(request: Request): Promise<Response> {
  const form = await request.formData();
  const video = form.get("video");
  if (!(video instanceof File)) {
    return Response.json({ error: { code: "no_video", message: "send a `video` file" } }, { status: 400 });
  }
  try {
    const { key } = await courier.uploads.put(video, { contentType: video.type || "video/mp4", filename: video.name });
    const { jobId, statusUrl } = await courier.jobs.enqueue({
      type: "video.analyze",
      input: { videoKey: key, options: { maxKeyframes: 12 } },
      callbackUrl: new URL("/api/courier/callback", request.url).toString(),
      idempotencyKey: `upload-${key}`,
    });
    return Response.json({ jobId, statusUrl, page: `/jobs/${jobId}` }, { status: 202 });
  } catch (error) {
    if (error instanceof CourierError) {
      return Response.json({ error: { code: error.code, message: error.message } }, { status: error.status || 502 });
    }
    throw error;
  }
}

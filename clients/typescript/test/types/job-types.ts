// Compiled, never run, by `npm run check-types` (`make client`): each job type's input and
// result are its own, so a misspelt type or field, or a value of the wrong kind, fails to compile. An
// expected-error directive fails the compile in turn if the line under it is accepted.
import { Courier, jobIs, type EnqueueRequest, type JobInputOf, type JobResultOf, type ScheduleRequest } from "../../src/index.js";

const courier = new Courier({ baseUrl: "http://127.0.0.1:4560", apiKey: "ck_type_test" });

export async function accepted(): Promise<void> {
  await courier.jobs.enqueue({ type: "text.hash", input: { text: "a" } });
  await courier.jobs.enqueue({ type: "video.analyze", input: { videoKey: "uploads/acme/a.mp4", options: { maxKeyframes: 8 } } });
  await courier.jobs.enqueue({ type: "demo.sleep", input: { seconds: 2, failTimes: 1 }, idempotencyKey: "k" });
  await courier.schedules.create({ cron: "0 3 * * *", type: "text.hash", input: { text: "nightly" } });
  const input: JobInputOf<"http.request"> = { url: "https://example.com/hook", method: "POST" };
  const request: EnqueueRequest = { type: "http.request", input };
  await courier.jobs.enqueue(request);
}

export async function refused(): Promise<void> {
  // @ts-expect-error a misspelt job type
  await courier.jobs.enqueue({ type: "text.hsh", input: { text: "a" } });
  // @ts-expect-error a misspelt input field
  await courier.jobs.enqueue({ type: "text.hash", input: { txt: "a" } });
  // @ts-expect-error a field of another job type's input
  await courier.jobs.enqueue({ type: "text.hash", input: { videoKey: "uploads/acme/a.mp4" } });
  // @ts-expect-error a number where the input wants a string
  await courier.jobs.enqueue({ type: "video.analyze", input: { videoKey: 42 } });
  // @ts-expect-error a value outside the field's choices
  await courier.jobs.enqueue({ type: "text.hash", input: { text: "a", algorithm: "sha512" } });
  // @ts-expect-error a schedule's input is checked the same way
  const schedule: ScheduleRequest = { cron: "0 3 * * *", type: "demo.sleep", input: { second: 1 } };
  void schedule;
}

export async function results(jobId: string): Promise<void> {
  const job = await courier.jobs.wait(jobId);
  if (jobIs(job, "video.analyze") && job.result) {
    const cut: number | undefined = job.result.cuts[0]?.time;
    const hook: number = job.result.metrics.hookScore;
    const audio: boolean = job.result.video.hasAudio;
    void [cut, hook, audio];
    // @ts-expect-error a misspelt result field
    void job.result.cutz;
    // @ts-expect-error a result field of another type (text.hash's digest)
    void job.result.digest;
  }
  if (jobIs(job, "text.hash") && job.result) {
    const digest: string = job.result.digest;
    void digest;
    // @ts-expect-error a string field read as a number
    const wrong: number = job.result.digest;
    void wrong;
  }
  const batch: JobResultOf<"batch.run"> = { jobs: [], succeeded: 0, failed: 0 };
  // @ts-expect-error a child outcome needs its job id, type and status
  batch.jobs.push({ status: "succeeded" });
  // @ts-expect-error jobIs takes only a job type the client knows
  void jobIs(job, "video.analyse");
}

export { Courier, isTerminal, jobIs, TERMINAL_STATUSES } from "./client.js";
export type {
  CourierOptions, EnqueueRequest, Job, JobAccepted, JobInputOf, JobOf, JobResultOf, JobTypeName, JobTypes, JobFiles, JobList, JobProgress, JobStatus, RouteAnswer, RouteInput,
  Delivery, Schedule, ScheduleRequest, Source, SourceRequest, UploadTicket, Usage, WaitOptions,
} from "./client.js";
export { CourierError } from "./errors.js";

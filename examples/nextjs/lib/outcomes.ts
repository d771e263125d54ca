// Where verified outcomes go. A real app writes them to its database; a Map shows the shape.
import type { CallbackOutcome } from "courier-client/callbacks";

const outcomes = new Map<string, CallbackOutcome>();

export async function saveOutcome(outcome: CallbackOutcome): Promise<void> {
  outcomes.set(outcome.jobId, outcome);
}

export async function outcomeOf(jobId: string): Promise<CallbackOutcome | undefined> {
  return outcomes.get(jobId);
}

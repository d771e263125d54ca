import { JobStatus } from "./job-status";

export default async function JobPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <main>
      <h1>Video analysis</h1>
      <JobStatus jobId={id} />
    </main>
  );
}

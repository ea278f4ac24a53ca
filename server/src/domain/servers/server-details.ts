import { eq } from "drizzle-orm";
import { sshCredentials } from "../../platform/db/schema/provisioning.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { findJob, type JobRow, listSteps, type StepRow } from "../provisioning/job-store.js";
import type { ServerRow } from "./servers.js";

/** What GetServer shows beyond the row: the provisioning job with its steps, and whether credentials are kept. */
export interface ServerDetails {
  readonly row: ServerRow;
  readonly hasCredentials: boolean;
  readonly job: JobRow | undefined;
  readonly steps: readonly StepRow[];
}

export async function getServerDetails(db: Queryable, row: ServerRow): Promise<ServerDetails> {
  const [credentials] = await db
    .select({ serverId: sshCredentials.serverId })
    .from(sshCredentials)
    .where(eq(sshCredentials.serverId, row.id));
  const job = await findJob(db, row.id);
  const steps = job ? await listSteps(db, row.id) : [];
  return { row, hasCredentials: Boolean(credentials), job, steps };
}

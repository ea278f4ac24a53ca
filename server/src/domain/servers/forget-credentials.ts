import { AppError } from "../../platform/errors/app-error.js";
import { deleteCredentials } from "../../platform/ssh/ssh-credentials.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { findJob } from "../provisioning/job-store.js";
import type { LifecycleDeps } from "./lifecycle-deps.js";
import { getServer, type ServerRow } from "./servers.js";

/** Drops the stored SSH credentials; the agent keeps working, only re-provisioning needs new ones. */
export async function forgetCredentials(
  deps: LifecycleDeps,
  context: AuditContext,
  input: { readonly id: string },
): Promise<ServerRow> {
  AppError.requireId(input.id);
  return deps.db.transaction(async (tx) => {
    const server = await getServer(tx, input.id);
    const job = await findJob(tx, input.id);
    if (
      job?.kind === "provision" &&
      (job.state === "pending" || job.state === "running") &&
      job.step !== "wait_agent"
    ) {
      throw new AppError(
        "failed_precondition",
        `provisioning uses the credentials right now (step ${job.step}); wait for it to finish`,
      );
    }
    const had = await deleteCredentials(tx, input.id);
    if (!had) throw new AppError("failed_precondition", "no SSH credentials are kept for this server");
    await recordAudit(
      tx,
      context,
      { action: "server.forget_credentials", targetType: "server", targetId: input.id },
      deps.now(),
    );
    return server;
  });
}

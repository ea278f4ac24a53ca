import { eq } from "drizzle-orm";
import { joinCommands } from "../../platform/db/schema/join-commands.js";
import { servers } from "../../platform/db/schema/servers.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { SshCredentials } from "../../platform/ssh/ssh-client.js";
import { hasCredentials, storeCredentials } from "../../platform/ssh/ssh-credentials.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { enqueueJob, findJob } from "../provisioning/job-store.js";
import { checkAccepted, type LifecycleDeps } from "./lifecycle-deps.js";
import { getServer, type ServerRow } from "./servers.js";

/**
 * Provisions a server again: after a failure (resuming at the agent wait when only the agent's
 * connection was missing), or to reinstall the agent. New credentials replace the stored ones.
 */
export async function retryProvisioning(
  deps: LifecycleDeps,
  context: AuditContext,
  input: {
    readonly id: string;
    readonly credentials?: SshCredentials;
    readonly acceptedRequirements?: readonly string[];
  },
): Promise<ServerRow> {
  AppError.requireId(input.id);
  const accepted = input.acceptedRequirements ? checkAccepted(input.acceptedRequirements) : undefined;
  const now = deps.now();
  const row = await deps.db.transaction(async (tx) => {
    const before = await getServer(tx, input.id);
    if (before.status === "removing") {
      throw new AppError("failed_precondition", "the server is being removed; add it again once it is gone");
    }
    const job = await findJob(tx, input.id);
    if (job && (job.state === "pending" || job.state === "running")) {
      throw new AppError(
        "failed_precondition",
        `provisioning is already under way (step ${job.step}); wait for it to finish`,
      );
    }
    const resumeWait =
      !input.credentials && job?.step === "wait_agent" && job.errorReason === "agent_not_connected";
    // Starting over needs SSH: without credentials the job could only fail (no_credentials) and
    // turn a server whose agent works into `failed`.
    if (!input.credentials && !resumeWait && !(await hasCredentials(tx, input.id))) {
      const [joined] = await tx
        .select({ id: joinCommands.id })
        .from(joinCommands)
        .where(eq(joinCommands.serverId, input.id))
        .limit(1);
      if (joined) {
        throw new AppError(
          "failed_precondition",
          "this server joined from the host: oCore has no SSH access to it and keeps no credentials. To install again, create a new join command for it (console: Add server, join from the host, for this server; API: JoinService.CreateJoinCommand with server_id) and run it on the host, or retry with a password or private key to provision it over SSH",
        );
      }
      throw new AppError(
        "failed_precondition",
        "no SSH credentials are kept for this server (they were forgotten): retry with a password or private key to provision it over SSH again",
      );
    }
    if (input.credentials) await storeCredentials(tx, deps.sshKeyring, input.id, input.credentials, now);
    await enqueueJob(tx, {
      serverId: input.id,
      kind: "provision",
      step: resumeWait ? "wait_agent" : "connect",
      now,
      acceptedRequirements: accepted,
    });
    const [after] = await tx
      .update(servers)
      .set({
        status: resumeWait ? "provisioning" : "connecting",
        statusReason: null,
        statusMessage: null,
        updatedAt: now,
      })
      .where(eq(servers.id, input.id))
      .returning();
    await recordAudit(
      tx,
      context,
      {
        action: "server.retry_provisioning",
        targetType: "server",
        targetId: input.id,
        before,
        after,
        detail: `${resumeWait ? "resumes waiting for the agent" : "starts from the SSH connection"}${input.credentials ? "; new credentials" : ""}`,
      },
      now,
    );
    return after ?? before;
  });
  deps.onJobQueued();
  return row;
}

import { and, eq, inArray } from "drizzle-orm";
import { instances, LIVE_INSTANCE_STATES } from "../../platform/db/schema/instances.js";
import { servers } from "../../platform/db/schema/servers.js";
import { findCredentials } from "../../platform/ssh/ssh-credentials.js";
import { describeTarget, SshError } from "../../platform/ssh/ssh-error.js";
import { revokeServerCertificates } from "../agent-identity/revoke-server-certificates.js";
import { systemContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { STALE_LAST_SEEN_AFTER_MS } from "../presence/server-presence.js";
import { openWorkspace } from "./host-workspace.js";
import { type JobContext, type ProvisioningDeps, runStep } from "./job-context.js";
import { updateOwnedJob } from "./job-store.js";
import { JobSuperseded, ProvisioningFailure } from "./provisioning-failure.js";

/**
 * Removes a server (status `removing`): uninstall the agent (over its stream, else over SSH
 * when credentials are kept), then revoke its certificates and delete every record of it.
 * Each step is safe to run again, so a restart in the middle resumes where it was.
 */
export async function removeServer(deps: ProvisioningDeps, context: JobContext): Promise<void> {
  const serverId = context.job.serverId;
  if (context.job.step !== "cleanup") {
    await runStep(deps, context, "uninstall", "removing the agent from the host", async () => ({
      value: undefined,
      message: await uninstallAgent(deps, context),
    }));
    await updateOwnedJob(deps.db, context.owner, serverId, { step: "cleanup", updatedAt: deps.now() });
  }
  await runStep(
    deps,
    context,
    "cleanup",
    "revoking certificates and deleting the server's records",
    async () => {
      const now = deps.now();
      const revoked = await revokeServerCertificates(deps.db, serverId, now);
      await deps.db.transaction(async (tx) => {
        const [before] = await tx.select().from(servers).where(eq(servers.id, serverId));
        if (!before) throw new JobSuperseded();
        const live = await tx
          .select({ id: instances.id })
          .from(instances)
          .where(and(eq(instances.serverId, serverId), inArray(instances.state, [...LIVE_INSTANCE_STATES])));
        if (live.length > 0 && !context.job.force) {
          throw new ProvisioningFailure(
            "uninstall_failed",
            `${live.length} instance(s) started on this server meanwhile; stop or move them, or delete with force`,
          );
        }
        // Instance records (and with them their port blocks) go with the server.
        await tx.delete(instances).where(eq(instances.serverId, serverId));
        await tx.delete(servers).where(eq(servers.id, serverId));
        await recordAudit(
          tx,
          systemContext(),
          {
            action: "server.removed",
            targetType: "server",
            targetId: serverId,
            before,
            detail: `revoked ${revoked.length} certificate(s)`,
          },
          now,
        );
      });
      return {
        value: undefined,
        message: `revoked ${revoked.length} certificate(s) and deleted the server's records`,
      };
    },
  );
}

async function uninstallAgent(deps: ProvisioningDeps, context: JobContext): Promise<string> {
  const serverId = context.job.serverId;
  const [server] = await deps.db.select().from(servers).where(eq(servers.id, serverId));
  if (!server) throw new JobSuperseded();
  const seenRecently =
    server.lastSeenAt && deps.now().getTime() - server.lastSeenAt.getTime() < STALE_LAST_SEEN_AFTER_MS;
  if (seenRecently && deps.uninstaller) {
    try {
      const outcome = await deps.uninstaller.uninstall(serverId, context.signal);
      if (outcome === "done") return "the agent removed itself (asked over its stream)";
    } catch (error) {
      context.logger.warn({ err: error }, "the agent did not confirm its uninstall; trying SSH");
    }
  }
  if (!server.installPrefix) return "no agent was installed on this host; nothing to uninstall";
  const credentials = await findCredentials(deps.db, deps.sshKeyring, serverId, deps.now());
  if (!credentials) {
    return `the agent is offline and no SSH credentials are kept: remove it by hand with ${server.installPrefix}/libexec/uninstall-agent.sh --prefix ${server.installPrefix}; its certificate is revoked either way`;
  }
  const target = { host: server.host, port: server.sshPort, username: server.sshUser };
  try {
    const connection = await deps.ssh.connect({
      target,
      credentials,
      pinnedHostKey: server.hostKeyFingerprint,
      signal: context.signal,
    });
    try {
      const isRoot = (await connection.exec(["id", "-u"])).stdout.trim() === "0";
      const workspace = await openWorkspace(connection, isRoot);
      try {
        await workspace.put(
          "uninstall-agent.sh",
          { path: `${deps.deployDir}/host/uninstall-agent.sh` },
          0o700,
        );
        const args = [
          "--prefix",
          server.installPrefix,
          ...(server.unitName ? ["--unit-name", server.unitName] : []),
        ];
        const ran = await workspace.run("uninstall-agent.sh", args, { asRoot: true, timeoutMs: 120_000 });
        if (ran.exitCode !== 0 || !ran.stdout.includes("OCORE_RESULT removed")) {
          return `uninstall-agent.sh failed over SSH (exit ${ran.exitCode}: ${ran.stderr.trim().slice(0, 300)}); remove ${server.installPrefix} by hand. Its certificate is revoked either way`;
        }
      } finally {
        await workspace.dispose();
      }
    } finally {
      await connection.close();
    }
  } catch (error) {
    if (!(error instanceof SshError)) throw error;
    return `the agent is offline and SSH to ${describeTarget(target)} failed (${error.message}); remove ${server.installPrefix} by hand. Its certificate is revoked either way`;
  }
  return `removed the agent over SSH (${describeTarget(target)})`;
}

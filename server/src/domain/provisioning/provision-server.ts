import { eq } from "drizzle-orm";
import type { ProvisioningFacts } from "../../platform/db/schema/provisioning.js";
import { servers } from "../../platform/db/schema/servers.js";
import type { SshConnection } from "../../platform/ssh/ssh-client.js";
import { findCredentials } from "../../platform/ssh/ssh-credentials.js";
import { describeTarget, SshError } from "../../platform/ssh/ssh-error.js";
import { createEnrollmentToken } from "../agent-identity/create-enrollment-token.js";
import { systemContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { parseFacts } from "./host-facts.js";
import { hostFiles, openWorkspace } from "./host-workspace.js";
import {
  checkLease,
  type JobContext,
  type ProvisioningDeps,
  runStep,
  setServerStatus,
} from "./job-context.js";
import { updateOwnedJob } from "./job-store.js";
import { JobSuperseded, ProvisioningFailure } from "./provisioning-failure.js";
import { applyAccepted, blockingVerdict, failureReasonOf, judgeRequirements } from "./requirements.js";

const INSTALL_TIMEOUT_MS = 5 * 60_000;
const AGENT_POLL_MS = 500;

/**
 * Provisions one server: connect (pin the host key) → check (facts and verdicts) → install
 * (upload, enroll, start) → wait for the agent's stream → active. A job resumed at `wait_agent`
 * (after a restart, or a retry after agent_not_connected) needs no SSH at all.
 */
export async function provisionServer(deps: ProvisioningDeps, context: JobContext): Promise<void> {
  const { job } = context;
  let installedAt = job.installedAt ?? job.createdAt;
  if (job.step !== "wait_agent") {
    const connection = await connectStep(deps, context);
    // Losing the lease (or a shutdown) ends the SSH session, and with it any command in flight.
    const closeOnAbort = () => void connection.close();
    context.signal.addEventListener("abort", closeOnAbort, { once: true });
    try {
      const facts = await checkStep(deps, context, connection);
      installedAt = await installStep(deps, context, connection, facts);
    } finally {
      context.signal.removeEventListener("abort", closeOnAbort);
      await connection.close();
    }
  }
  await waitForAgentStep(deps, context, installedAt);
}

async function loadServer(deps: ProvisioningDeps, serverId: string) {
  const [server] = await deps.db.select().from(servers).where(eq(servers.id, serverId));
  if (!server) throw new JobSuperseded();
  return server;
}

async function connectStep(deps: ProvisioningDeps, context: JobContext): Promise<SshConnection> {
  const serverId = context.job.serverId;
  await updateOwnedJob(deps.db, context.owner, serverId, { step: "connect", updatedAt: deps.now() });
  await setServerStatus(deps.db, serverId, "connecting", deps.now());
  const server = await loadServer(deps, serverId);
  const target = { host: server.host, port: server.sshPort, username: server.sshUser };
  return runStep(deps, context, "connect", `connecting to ${describeTarget(target)}`, async () => {
    const credentials = await findCredentials(deps.db, deps.sshKeyring, serverId, deps.now());
    if (!credentials) {
      throw new ProvisioningFailure(
        "no_credentials",
        "no SSH credentials are kept for this server (they were forgotten); give a password or key with RetryProvisioning",
      );
    }
    let connection: SshConnection;
    try {
      connection = await deps.ssh.connect({
        target,
        credentials,
        pinnedHostKey: server.hostKeyFingerprint,
        signal: context.signal,
      });
    } catch (error) {
      checkLease(context);
      if (!(error instanceof SshError)) throw error;
      if (error.presentedHostKey) {
        await deps.db
          .update(servers)
          .set({
            pendingHostKeyAlgorithm: error.presentedHostKey.algorithm,
            pendingHostKeyFingerprint: error.presentedHostKey.fingerprint,
          })
          .where(eq(servers.id, serverId));
      }
      throw new ProvisioningFailure(
        error.reason === "auth_failed" || error.reason === "host_key_mismatch" ? error.reason : "unreachable",
        error.message,
        { cause: error },
      );
    }
    const { fingerprint, algorithm } = connection.hostKey;
    const pinnedNow = server.hostKeyFingerprint === null;
    await deps.db
      .update(servers)
      .set({
        hostKeyFingerprint: fingerprint,
        hostKeyAlgorithm: algorithm,
        pendingHostKeyFingerprint: null,
        pendingHostKeyAlgorithm: null,
      })
      .where(eq(servers.id, serverId));
    await setServerStatus(deps.db, serverId, "connected", deps.now());
    return {
      value: connection,
      message: `connected to ${describeTarget(target)}; host key ${algorithm} ${fingerprint} ${pinnedNow ? "pinned on first contact" : "matches the pinned key"}`,
    };
  });
}

async function checkStep(
  deps: ProvisioningDeps,
  context: JobContext,
  connection: SshConnection,
): Promise<ProvisioningFacts> {
  const serverId = context.job.serverId;
  await updateOwnedJob(deps.db, context.owner, serverId, { step: "check", updatedAt: deps.now() });
  return runStep(deps, context, "check", "gathering facts and checking the requirements", async () => {
    const workspace = await openWorkspace(connection, false);
    let output: string;
    try {
      await workspace.put("facts.sh", { path: `${deps.deployDir}/host/facts.sh` }, 0o700);
      const ran = await workspace.run("facts.sh", ["--data-dir", deps.install.prefix(serverId)], {
        asRoot: false,
        timeoutMs: 60_000,
      });
      if (ran.exitCode !== 0) {
        throw new ProvisioningFailure(
          "unsupported_os",
          `facts.sh failed on the host (exit ${ran.exitCode}: ${ran.stderr.trim().slice(0, 300)}); the host needs a POSIX sh with coreutils, awk and sed`,
        );
      }
      output = ran.stdout;
    } finally {
      await workspace.dispose();
    }
    let facts: ProvisioningFacts;
    try {
      facts = parseFacts(output);
    } catch (error) {
      throw new ProvisioningFailure(
        "unsupported_os",
        `${(error as Error).message}; the host's tools answered in an unexpected way`,
      );
    }
    const verdicts = applyAccepted(
      judgeRequirements(facts, {
        plannedInstances: context.job.plannedInstances,
        requirements: deps.requirements,
      }),
      context.job.acceptedRequirements,
    );
    await updateOwnedJob(deps.db, context.owner, serverId, { facts, verdicts, updatedAt: deps.now() });
    const blocking = blockingVerdict(verdicts);
    if (blocking) {
      throw new ProvisioningFailure(failureReasonOf(blocking), `${blocking.title}: ${blocking.message}`);
    }
    const counts = (level: string) => verdicts.filter((verdict) => verdict.verdict === level).length;
    return {
      value: facts,
      message: `${facts.osName || facts.osId}, ${facts.architecture}, ${facts.cpuCores} CPUs: ${counts("pass")} requirements pass, ${counts("warn")} warn, ${counts("fail")} fail${counts("fail") > 0 ? " (accepted)" : ""}`,
    };
  });
}

async function installStep(
  deps: ProvisioningDeps,
  context: JobContext,
  connection: SshConnection,
  facts: ProvisioningFacts,
): Promise<Date> {
  const serverId = context.job.serverId;
  const installedAt = deps.now();
  await updateOwnedJob(deps.db, context.owner, serverId, { step: "install", updatedAt: installedAt });
  await setServerStatus(deps.db, serverId, "provisioning", installedAt);
  const prefix = deps.install.prefix(serverId);
  const unitName = deps.install.unitName(serverId);
  await runStep(deps, context, "install", `uploading the agent and installing it in ${prefix}`, async () => {
    const release = await deps.agentRelease();
    const workspace = await openWorkspace(connection, facts.isRoot);
    let ran: { exitCode: number | null; stdout: string; stderr: string };
    try {
      for (const file of await hostFiles(deps.deployDir)) {
        await workspace.put(file.name, { path: file.path }, file.mode);
      }
      checkLease(context);
      const binary = await workspace.put("ocore-agent", { path: release.path }, 0o700);
      checkLease(context);
      const token = await createEnrollmentToken(deps.db, {
        serverId,
        caPin: deps.enrollment.caPin,
        now: deps.now(),
        audit: systemContext(),
      });
      const tokenFile = await workspace.put("enrollment-token", { data: Buffer.from(token.token) }, 0o600);
      ran = await workspace.run(
        "install-agent.sh",
        [
          "--prefix",
          prefix,
          "--binary",
          binary,
          "--sha256",
          release.sha256,
          "--server",
          deps.enrollment.gatewayAddress,
          "--token-file",
          tokenFile,
          "--mode",
          deps.install.mode,
          "--unit-name",
          unitName,
        ],
        { asRoot: true, timeoutMs: INSTALL_TIMEOUT_MS },
      );
    } catch (error) {
      if (error instanceof SshError) {
        throw new ProvisioningFailure(
          error.reason === "transfer_failed" ? "upload_failed" : "agent_start_failed",
          error.message,
          { cause: error },
        );
      }
      throw error;
    } finally {
      await workspace.dispose();
    }
    const mode = /OCORE_RESULT mode=(systemd|supervised)/.exec(ran.stdout)?.[1] as
      | "systemd"
      | "supervised"
      | undefined;
    if (ran.exitCode !== 0 || !mode) throw installFailure(ran, deps.enrollment.gatewayAddress);
    await deps.db
      .update(servers)
      .set({ installMode: mode, installPrefix: prefix, unitName, updatedAt: deps.now() })
      .where(eq(servers.id, serverId));
    await updateOwnedJob(deps.db, context.owner, serverId, {
      step: "wait_agent",
      installedAt,
      updatedAt: deps.now(),
    });
    return {
      value: undefined,
      message: `agent ${release.version} (${release.size} bytes, sha256 verified on the host) installed in ${prefix}, running ${mode === "systemd" ? `as the systemd service ${unitName}.service` : "under the supervisor script (no systemd on this host)"}`,
    };
  });
  return installedAt;
}

function installFailure(
  ran: { exitCode: number | null; stdout: string; stderr: string },
  gatewayAddress: string,
): ProvisioningFailure {
  const said = (ran.stderr.trim() || ran.stdout.trim()).split("\n").slice(-5).join(" | ").slice(0, 600);
  switch (ran.exitCode) {
    case 10:
      return new ProvisioningFailure(
        "upload_failed",
        `the uploaded agent executable failed its checksum on the host: ${said}. Retry.`,
      );
    case 11:
      return new ProvisioningFailure(
        "agent_not_connected",
        `the agent could not enroll with the gateway at ${gatewayAddress}: ${said}. Check that the host reaches that address (firewall, OCORE_AGENT_PUBLIC_ADDR), then retry.`,
      );
    case 1:
      if (/sudo/.test(said)) {
        return new ProvisioningFailure(
          "no_sudo",
          `sudo refused to run the installer: ${said}. Allow passwordless sudo, then retry.`,
        );
      }
      return new ProvisioningFailure("agent_start_failed", `the installer failed: ${said}`);
    default:
      return new ProvisioningFailure(
        "agent_start_failed",
        `the agent did not start on the host (installer exit ${ran.exitCode ?? "by signal"}): ${said}`,
      );
  }
}

async function waitForAgentStep(
  deps: ProvisioningDeps,
  context: JobContext,
  installedAt: Date,
): Promise<void> {
  const serverId = context.job.serverId;
  await runStep(
    deps,
    context,
    "wait_agent",
    `waiting for the agent to connect to ${deps.enrollment.gatewayAddress}`,
    async () => {
      const deadline = Date.now() + deps.agentWaitMs;
      for (;;) {
        checkLease(context);
        const server = await loadServer(deps, serverId);
        if (server.lastSeenAt && server.lastSeenAt >= installedAt) {
          return {
            value: undefined,
            message: `the agent ${server.agentVersion ?? ""} connected; metrics are flowing`.replace(
              "  ",
              " ",
            ),
          };
        }
        if (Date.now() >= deadline) {
          throw new ProvisioningFailure(
            "agent_not_connected",
            `the agent was installed but did not connect to ${deps.enrollment.gatewayAddress} within ${Math.round(deps.agentWaitMs / 1000)} s. Check that the host reaches that address (firewall, OCORE_AGENT_PUBLIC_ADDR) and read the agent's log (journalctl -u ${server.unitName ?? "ocore-agent"}, or ${server.installPrefix ?? "<prefix>"}/log/agent.log), then retry.`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, AGENT_POLL_MS));
      }
    },
  );
  await deps.db.transaction(async (tx) => {
    const now = deps.now();
    const finished = await updateOwnedJob(tx, context.owner, serverId, {
      state: "succeeded",
      finishedAt: now,
      updatedAt: now,
      leaseExpiresAt: null,
    });
    if (!finished) throw new JobSuperseded();
    await setServerStatus(tx, serverId, "active", now);
    await recordAudit(
      tx,
      systemContext(),
      { action: "server.provisioned", targetType: "server", targetId: serverId },
      now,
    );
  });
}

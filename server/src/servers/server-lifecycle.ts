import { and, eq, inArray } from "drizzle-orm";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import type { Db } from "../db/database.js";
import { instances, LIVE_INSTANCE_STATES } from "../db/schema/instances.js";
import { servers } from "../db/schema/servers.js";
import { AppError } from "../errors/app-error.js";
import type { MasterKeyring } from "../pki/master-key.js";
import { enqueueJob, findJob } from "../provisioning/job-store.js";
import { isHostKeyFingerprint } from "../ssh/host-key.js";
import type { SshCredentials } from "../ssh/ssh-client.js";
import { deleteCredentials, hasCredentials, storeCredentials } from "../ssh/ssh-credentials.js";
import { getServer, type ServerRow } from "./servers.js";
import { checkHost, checkPort, checkServerName, checkSshUser, checkTags } from "./tags.js";

/** Requirement ids an admin may accept as failed (see provisioning/requirements.ts). */
export const ACCEPTABLE_REQUIREMENTS = ["os", "architecture", "docker", "privileges"] as const;

export interface LifecycleDeps {
  readonly db: Db;
  readonly sshKeyring: MasterKeyring;
  readonly now: () => Date;
  /** Tells the worker a job is due (it also polls). */
  readonly onJobQueued: () => void;
}

function checkAccepted(ids: readonly string[]): string[] {
  const unknown = ids.filter((id) => !(ACCEPTABLE_REQUIREMENTS as readonly string[]).includes(id));
  if (unknown.length > 0) {
    throw AppError.invalid(
      "accepted_requirements",
      `unknown: ${unknown.join(", ")}; these can be accepted: ${ACCEPTABLE_REQUIREMENTS.join(", ")}`,
    );
  }
  return [...new Set(ids)];
}

function checkPlanned(value: number): number {
  if (value === 0) return 1;
  if (!Number.isInteger(value) || value < 1 || value > 100) {
    throw AppError.invalid("planned_instances", "must be 1-100 (0 means 1)");
  }
  return value;
}

/**
 * Adds a server and queues its provisioning: the API answers at once with status `connecting`,
 * the worker does the rest. An expected host key fingerprint is pinned before the first contact.
 */
export async function createServer(
  deps: LifecycleDeps,
  context: AuditContext,
  input: {
    readonly name: string;
    readonly host: string;
    readonly sshPort: number;
    readonly sshUser: string;
    readonly credentials: SshCredentials;
    readonly tags: Readonly<Record<string, string>>;
    readonly expectedHostKey: string;
    readonly plannedInstances: number;
    readonly acceptedRequirements: readonly string[];
  },
): Promise<ServerRow> {
  const name = checkServerName(input.name);
  const host = checkHost(input.host);
  const sshPort = checkPort(input.sshPort === 0 ? 22 : input.sshPort);
  const sshUser = checkSshUser(input.sshUser || "root");
  const tags = checkTags(input.tags);
  const expected = input.expectedHostKey.trim();
  if (expected && !isHostKeyFingerprint(expected)) {
    throw AppError.invalid(
      "expected_host_key_fingerprint",
      "must look like SHA256:… as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the host",
    );
  }
  const plannedInstances = checkPlanned(input.plannedInstances);
  const accepted = checkAccepted(input.acceptedRequirements);
  const now = deps.now();
  const row = await deps.db.transaction(async (tx) => {
    const [clash] = await tx.select({ id: servers.id }).from(servers).where(eq(servers.name, name));
    if (clash) throw new AppError("already_exists", `a server named "${name}" exists; choose another name`);
    const [created] = await tx
      .insert(servers)
      .values({
        name,
        host,
        sshPort,
        sshUser,
        tags,
        status: "connecting",
        hostKeyFingerprint: expected || null,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (!created) throw new Error("the server was not created");
    await storeCredentials(tx, deps.sshKeyring, created.id, input.credentials, now);
    await enqueueJob(tx, {
      serverId: created.id,
      kind: "provision",
      step: "connect",
      now,
      plannedInstances,
      acceptedRequirements: accepted,
    });
    await recordAudit(
      tx,
      context,
      {
        action: "server.create",
        targetType: "server",
        targetId: created.id,
        after: {
          ...created,
          credentials: input.credentials.kind,
          plannedInstances,
          acceptedRequirements: accepted,
        },
      },
      now,
    );
    return created;
  });
  deps.onJobQueued();
  return row;
}

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

/**
 * Starts removing a server: status `removing` at once, the worker uninstalls the agent and
 * deletes the records. Refused while instances run, unless forced (their records go too; their
 * containers stay on the host).
 */
export async function requestServerDeletion(
  deps: LifecycleDeps,
  context: AuditContext,
  input: { readonly id: string; readonly force: boolean },
): Promise<ServerRow> {
  AppError.requireId(input.id);
  const now = deps.now();
  const row = await deps.db.transaction(async (tx) => {
    const before = await getServer(tx, input.id);
    const live = await tx
      .select({ name: instances.name })
      .from(instances)
      .where(and(eq(instances.serverId, input.id), inArray(instances.state, [...LIVE_INSTANCE_STATES])));
    if (live.length > 0 && !input.force) {
      throw new AppError(
        "failed_precondition",
        `${live.length} instance(s) run on this server (${live
          .map((i) => i.name)
          .slice(0, 5)
          .join(
            ", ",
          )}): stop or move them first, or delete with force (their records are deleted, their containers stay on the host)`,
      );
    }
    await enqueueJob(tx, { serverId: input.id, kind: "remove", step: "uninstall", now, force: input.force });
    const [after] = await tx
      .update(servers)
      .set({ status: "removing", statusReason: null, statusMessage: null, updatedAt: now })
      .where(eq(servers.id, input.id))
      .returning();
    await recordAudit(
      tx,
      context,
      {
        action: "server.delete",
        targetType: "server",
        targetId: input.id,
        before,
        after,
        detail: input.force ? "forced" : undefined,
      },
      now,
    );
    return after ?? before;
  });
  deps.onJobQueued();
  return row;
}

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

/**
 * Pins the new host key a server presented (after the admin verified it on the host) and, when
 * the mismatch stopped provisioning, provisions again.
 */
export async function acceptHostKey(
  deps: LifecycleDeps,
  context: AuditContext,
  input: { readonly id: string; readonly fingerprint: string },
): Promise<ServerRow> {
  AppError.requireId(input.id);
  const now = deps.now();
  let queued = false;
  const row = await deps.db.transaction(async (tx) => {
    const before = await getServer(tx, input.id);
    if (!before.pendingHostKeyFingerprint) {
      throw new AppError("failed_precondition", "the server presented no new host key; nothing to accept");
    }
    if (input.fingerprint.trim() !== before.pendingHostKeyFingerprint) {
      throw AppError.invalid(
        "fingerprint",
        `does not match the key the host presented (${before.pendingHostKeyFingerprint}); compare it with ssh-keygen -lf on the host's console and send that value`,
      );
    }
    const retry = before.status === "failed" && before.statusReason === "host_key_mismatch";
    if (retry) {
      await enqueueJob(tx, { serverId: input.id, kind: "provision", step: "connect", now });
      queued = true;
    }
    const [after] = await tx
      .update(servers)
      .set({
        hostKeyFingerprint: before.pendingHostKeyFingerprint,
        hostKeyAlgorithm: before.pendingHostKeyAlgorithm,
        pendingHostKeyFingerprint: null,
        pendingHostKeyAlgorithm: null,
        ...(retry ? { status: "connecting", statusReason: null, statusMessage: null } : {}),
        updatedAt: now,
      })
      .where(eq(servers.id, input.id))
      .returning();
    await recordAudit(
      tx,
      context,
      {
        action: "server.accept_host_key",
        targetType: "server",
        targetId: input.id,
        before: { hostKeyFingerprint: before.hostKeyFingerprint },
        after: { hostKeyFingerprint: after?.hostKeyFingerprint },
      },
      now,
    );
    return after ?? before;
  });
  if (queued) deps.onJobQueued();
  return row;
}

import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import type { ProvisioningStep } from "../../platform/db/schema/provisioning.js";
import { servers } from "../../platform/db/schema/servers.js";
import type { Queryable } from "../../platform/db/transaction.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { MasterKeyring } from "../../platform/pki/master-key.js";
import type { SshConnector } from "../../platform/ssh/ssh-client.js";
import type { AgentRelease } from "../agent-release/agent-release.js";
import { statusesThatMayBecome } from "../server-status/server-status.js";
import { endStep, type JobRow, startStep } from "./job-store.js";
import { JobSuperseded, ProvisioningFailure } from "./provisioning-failure.js";
import type { Requirements } from "./requirements.js";

/** Asks a connected agent to remove itself over its stream (the commands engineer's runner). */
export interface AgentUninstaller {
  /** "done" when the agent confirmed; "offline" when it has no live stream to ask over. */
  uninstall(serverId: string, signal: AbortSignal): Promise<"done" | "offline">;
}

/** Everything the provisioning and removal jobs use, injected once by startup. */
export interface ProvisioningDeps {
  readonly db: Db;
  readonly ssh: SshConnector;
  /** Seals and opens SSH credentials. */
  readonly sshKeyring: MasterKeyring;
  readonly logger: Logger;
  readonly now: () => Date;
  /** The repository's deploy/ directory (host scripts and the systemd unit). */
  readonly deployDir: string;
  readonly agentRelease: () => Promise<AgentRelease>;
  /** What enrollment tokens carry: the CA pin and the gateway address agents dial. */
  readonly enrollment: { readonly caPin: string; readonly gatewayAddress: string };
  readonly install: {
    /** Where the agent goes on a host (tests give each test host its own). */
    readonly prefix: (serverId: string) => string;
    readonly unitName: (serverId: string) => string;
    readonly mode: "auto" | "systemd" | "supervised";
  };
  readonly requirements: Requirements;
  /** How long an installed agent has to open its stream. */
  readonly agentWaitMs: number;
  readonly uninstaller?: AgentUninstaller;
}

/** One claimed job as a step runs it: the row, the lease owner, and a signal that fires when the lease is lost. */
export interface JobContext {
  readonly job: JobRow;
  readonly owner: string;
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

export function checkLease(context: JobContext): void {
  if (context.signal.aborted) throw new JobSuperseded();
}

/** Runs one recorded step: its start, end and message are visible through the API while it runs. */
export async function runStep<T>(
  deps: ProvisioningDeps,
  context: JobContext,
  step: ProvisioningStep,
  startMessage: string,
  work: () => Promise<{ readonly value: T; readonly message: string }>,
): Promise<T> {
  checkLease(context);
  const id = await startStep(deps.db, {
    serverId: context.job.serverId,
    attempt: context.job.attempt,
    step,
    message: startMessage,
    now: deps.now(),
  });
  try {
    const { value, message } = await work();
    await endStep(deps.db, { id, status: "succeeded", message, now: deps.now() });
    context.logger.info({ step }, message);
    return value;
  } catch (error) {
    const message =
      error instanceof ProvisioningFailure
        ? error.message
        : error instanceof JobSuperseded
          ? "stopped: the job was taken over or replaced"
          : "an unexpected error stopped this step (see the server log)";
    await endStep(deps.db, { id, status: "failed", message, now: deps.now() });
    throw error;
  }
}

/**
 * Moves a server along its lifecycle where the table allows it: never out of `removing` (a removal
 * owns the server then).
 */
export async function setServerStatus(
  db: Queryable,
  serverId: string,
  status: "connecting" | "connected" | "provisioning" | "active" | "failed",
  now: Date,
  detail: { readonly reason?: string; readonly message?: string } = {},
): Promise<void> {
  await db
    .update(servers)
    .set({
      status,
      statusReason: detail.reason ?? null,
      statusMessage: detail.message ?? null,
      updatedAt: now,
    })
    .where(and(eq(servers.id, serverId), inArray(servers.status, statusesThatMayBecome(status))));
}

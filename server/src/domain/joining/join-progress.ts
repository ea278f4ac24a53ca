import { and, desc, eq, sql } from "drizzle-orm";
import {
  type ProvisioningStep,
  provisioningJobs,
  provisioningSteps,
} from "../../platform/db/schema/provisioning.js";
import { servers } from "../../platform/db/schema/servers.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";
import { systemContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { parseFacts } from "../provisioning/host-facts.js";
import { setServerStatus } from "../provisioning/job-context.js";
import { endStep, findJob, type JobRow, startStep } from "../provisioning/job-store.js";
import type { FailureReason } from "../provisioning/provisioning-failure.js";
import {
  acceptInstead,
  applyAccepted,
  blockingVerdict,
  failureReasonOf,
  judgeRequirements,
} from "../provisioning/requirements.js";
import type { JoinView } from "./find-join-command.js";
import type { JoinDeps } from "./join-deps.js";

/** The lease owner of join jobs: no worker claims them (job-store.ts skips kind `join`). */
const JOIN_OWNER = "join";
/** How long after enrolling the host may still report (its install and wait steps). */
const REPORT_AFTER_USE_MS = 30 * 60_000;
const AGENT_POLL_MS = 500;

type Report = { step: "connect" | "install"; status: "running" | "succeeded" | "failed"; message: string };

/** Reads the script's `key=value` report lines; bad input names its field. */
export function parseJoinReport(text: string): Report {
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) values.set(line.slice(0, at), line.slice(at + 1));
  }
  const step = values.get("step");
  const status = values.get("status");
  if (step !== "connect" && step !== "install") throw AppError.invalid("step", "must be connect or install");
  if (status !== "running" && status !== "succeeded" && status !== "failed") {
    throw AppError.invalid("status", "must be running, succeeded or failed");
  }
  return { step, status, message: (values.get("message") ?? "").trim().slice(0, 2000) };
}

/** Refuses reports for a command that no longer works (a used one may finish its own run). */
function checkReportable(join: JoinView, now: Date, needsUnused: boolean): void {
  const recentlyUsed =
    join.state === "used" &&
    join.usedAt !== null &&
    now.getTime() - join.usedAt.getTime() < REPORT_AFTER_USE_MS;
  if (join.state === "valid" || (!needsUnused && recentlyUsed)) {
    if (join.serverStatus === "removing") {
      throw new AppError("failed_precondition", `server "${join.serverName}" is being removed`);
    }
    return;
  }
  throw new AppError("failed_precondition", `this join command is ${join.state}`);
}

async function currentJob(db: Queryable, serverId: string): Promise<JobRow> {
  const job = await findJob(db, serverId);
  if (job?.kind !== "join" || job.leaseOwner !== JOIN_OWNER) {
    throw new AppError(
      "failed_precondition",
      "no join is running for this server: run the join command again",
    );
  }
  return job;
}

async function runningStep(db: Queryable, job: JobRow, step: ProvisioningStep): Promise<string | undefined> {
  const [row] = await db
    .select({ id: provisioningSteps.id })
    .from(provisioningSteps)
    .where(
      and(
        eq(provisioningSteps.serverId, job.serverId),
        eq(provisioningSteps.attempt, job.attempt),
        eq(provisioningSteps.step, step),
        eq(provisioningSteps.status, "running"),
      ),
    )
    .orderBy(desc(provisioningSteps.startedAt))
    .limit(1);
  return row?.id;
}

async function failJoin(
  db: Queryable,
  job: JobRow,
  reason: FailureReason,
  message: string,
  now: Date,
): Promise<void> {
  await db
    .update(provisioningJobs)
    .set({ state: "failed", errorReason: reason, errorMessage: message, finishedAt: now, updatedAt: now })
    .where(eq(provisioningJobs.serverId, job.serverId));
  await setServerStatus(db, job.serverId, "failed", now, { reason, message });
}

/**
 * One step the host reports: `connect` (it verified the server and downloaded the agent) and
 * `install` (install-agent.sh), as running, succeeded or failed. The first report of a run
 * replaces the server's job with a new `join` attempt, so the console shows the same job, steps
 * and statuses as for SSH onboarding.
 */
export async function recordJoinReport(deps: JoinDeps, join: JoinView, report: Report): Promise<void> {
  const now = deps.now();
  checkReportable(join, now, report.step === "connect");
  const message = report.message || `${report.step} ${report.status}`;
  await deps.db.transaction(async (tx) => {
    if (report.step === "connect" && report.status === "running") {
      const values = {
        kind: "join" as const,
        state: "running" as const,
        step: "connect" as const,
        runAfter: now,
        leaseOwner: JOIN_OWNER,
        leaseExpiresAt: null,
        installedAt: null,
        facts: null,
        verdicts: null,
        errorReason: null,
        errorMessage: null,
        finishedAt: null,
        acceptedRequirements: [...join.acceptedRequirements],
        plannedInstances: join.plannedInstances,
        updatedAt: now,
      };
      await tx
        .insert(provisioningJobs)
        .values({ serverId: join.serverId, createdAt: now, ...values })
        .onConflictDoUpdate({
          target: provisioningJobs.serverId,
          set: { ...values, attempt: sql`${provisioningJobs.attempt} + 1` },
        });
      const job = await currentJob(tx, join.serverId);
      await startStep(tx, { serverId: join.serverId, attempt: job.attempt, step: "connect", message, now });
      await setServerStatus(tx, join.serverId, "connecting", now);
      return;
    }
    const job = await currentJob(tx, join.serverId);
    if (report.status === "running") {
      await tx
        .update(provisioningJobs)
        .set({ step: report.step, installedAt: now, updatedAt: now })
        .where(eq(provisioningJobs.serverId, job.serverId));
      await startStep(tx, { serverId: job.serverId, attempt: job.attempt, step: report.step, message, now });
      await setServerStatus(tx, job.serverId, "provisioning", now);
      return;
    }
    const stepId = await runningStep(tx, job, report.step);
    if (stepId) await endStep(tx, { id: stepId, status: report.status, message, now });
    if (report.status === "failed") {
      await failJoin(tx, job, report.step === "connect" ? "unreachable" : "agent_start_failed", message, now);
    } else if (report.step === "connect") {
      await setServerStatus(tx, job.serverId, "connected", now);
    }
  });
}

/**
 * SSH onboarding's verdict, word for word, but for a host that joins: facts.sh ran as root, not as
 * an SSH user, and a requirement is accepted with a new join command, not RetryProvisioning.
 */
function forJoin(id: string, title: string, message: string): string {
  return message
    .replace("the SSH user's PATH", "root's PATH")
    .replace(
      acceptInstead(id, title),
      `Or accept the requirement and go ahead at your own risk: create a new join command with "${title}" accepted (console: Add server, join from the host, tick "Go ahead if…"; API: CreateJoinCommand with accepted_requirements ["${id}"]) and run that.`,
    );
}

/**
 * The host's facts (facts.sh output): judged with the same requirements as SSH onboarding and
 * stored on the job. Answers one `verdict LEVEL Title: message` line per requirement and
 * `OCORE_VERDICTS ok` or `OCORE_VERDICTS blocked`.
 */
export async function submitJoinFacts(deps: JoinDeps, join: JoinView, output: string): Promise<string> {
  const now = deps.now();
  checkReportable(join, now, true);
  let facts: ReturnType<typeof parseFacts>;
  try {
    facts = parseFacts(output);
  } catch (error) {
    throw AppError.invalid("facts", (error as Error).message);
  }
  const verdicts = applyAccepted(
    judgeRequirements(facts, { plannedInstances: join.plannedInstances, requirements: deps.requirements }),
    [...join.acceptedRequirements],
  ).map((verdict) => ({ ...verdict, message: forJoin(verdict.id, verdict.title, verdict.message) }));
  const blocking = blockingVerdict(verdicts);
  const count = (level: string) => verdicts.filter((verdict) => verdict.verdict === level).length;
  await deps.db.transaction(async (tx) => {
    const job = await currentJob(tx, join.serverId);
    const id = await startStep(tx, {
      serverId: job.serverId,
      attempt: job.attempt,
      step: "check",
      message: "the host gathered its facts; checking the requirements",
      now,
    });
    await tx
      .update(provisioningJobs)
      .set({ step: "check", facts, verdicts, updatedAt: now })
      .where(eq(provisioningJobs.serverId, job.serverId));
    if (blocking) {
      const message = `${blocking.title}: ${blocking.message}`;
      await endStep(tx, { id, status: "failed", message, now });
      await failJoin(tx, job, failureReasonOf(blocking), message, now);
    } else {
      await endStep(tx, {
        id,
        status: "succeeded",
        message: `${facts.osName || facts.osId}, ${facts.architecture}, ${facts.cpuCores} CPUs: ${count("pass")} requirements pass, ${count("warn")} warn, ${count("fail")} fail${count("fail") > 0 ? " (accepted)" : ""}`,
        now,
      });
    }
  });
  const lines = verdicts.map(
    (verdict) =>
      `verdict ${verdict.verdict.toUpperCase()}${verdict.accepted ? " (accepted)" : ""} ${verdict.title}: ${verdict.message}`,
  );
  return `${[...lines, `OCORE_VERDICTS ${blocking ? "blocked" : "ok"}`].join("\n")}\n`;
}

/**
 * The host installed the agent (`mode=systemd|supervised`): records how, then waits for the
 * agent's stream, as SSH onboarding's wait_agent step does, and sets the server active.
 */
export async function finishJoin(
  deps: JoinDeps,
  join: JoinView,
  body: string,
  signal?: AbortSignal,
): Promise<string> {
  const mode = /^mode=(systemd|supervised)\s*$/m.exec(body)?.[1];
  if (!mode) throw AppError.invalid("mode", "must be mode=systemd or mode=supervised");
  checkReportable(join, deps.now(), false);
  const job = await currentJob(deps.db, join.serverId);
  const installedAt = job.installedAt ?? job.createdAt;
  const stepId = await deps.db.transaction(async (tx) => {
    await tx
      .update(servers)
      .set({
        installMode: mode,
        installPrefix: join.installPrefix,
        unitName: join.unitName,
        updatedAt: deps.now(),
      })
      .where(eq(servers.id, join.serverId));
    await tx
      .update(provisioningJobs)
      .set({ step: "wait_agent", updatedAt: deps.now() })
      .where(eq(provisioningJobs.serverId, join.serverId));
    return startStep(tx, {
      serverId: join.serverId,
      attempt: job.attempt,
      step: "wait_agent",
      message: `waiting for the agent to connect to ${deps.gatewayAddress}`,
      now: deps.now(),
    });
  });
  const deadline = Date.now() + deps.agentWaitMs;
  for (;;) {
    const [server] = await deps.db
      .select({ lastSeenAt: servers.lastSeenAt, agentVersion: servers.agentVersion })
      .from(servers)
      .where(eq(servers.id, join.serverId));
    if (server?.lastSeenAt && server.lastSeenAt >= installedAt) {
      const message = `the agent ${server.agentVersion ?? ""} connected; metrics are flowing`.replace(
        "  ",
        " ",
      );
      await deps.db.transaction(async (tx) => {
        const now = deps.now();
        await endStep(tx, { id: stepId, status: "succeeded", message, now });
        await tx
          .update(provisioningJobs)
          .set({ state: "succeeded", finishedAt: now, updatedAt: now })
          .where(eq(provisioningJobs.serverId, join.serverId));
        await setServerStatus(tx, join.serverId, "active", now);
        await recordAudit(
          tx,
          systemContext(),
          { action: "server.joined", targetType: "server", targetId: join.serverId, after: { mode } },
          now,
        );
      });
      return `message server "${join.serverName}" is active: ${message}\nOCORE_JOINED ${join.serverId}\n`;
    }
    if (Date.now() >= deadline || signal?.aborted) {
      const message = `the agent was installed but did not connect to ${deps.gatewayAddress} within ${Math.round(deps.agentWaitMs / 1000)} s: check that the host reaches that address and read journalctl -u ${join.unitName} (or ${join.installPrefix}/log/agent.log)`;
      await deps.db.transaction(async (tx) => {
        const now = deps.now();
        await endStep(tx, { id: stepId, status: "failed", message, now });
        await failJoin(tx, job, "agent_not_connected", message, now);
      });
      throw new AppError("unavailable", message);
    }
    await new Promise((resolve) => setTimeout(resolve, AGENT_POLL_MS));
  }
}

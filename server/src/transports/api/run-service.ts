import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { RunService } from "@ocore/proto/gen/ocore/api/v1/run_service_pb.js";
import { holdsOn, scopeOf } from "../../domain/auth/principal.js";
import { DENY_RULES, deniedBy } from "../../domain/runs/adhoc/deny-list.js";
import { MAX_ADHOC_SCRIPT_BYTES, startAdhocRun } from "../../domain/runs/adhoc/start-adhoc-run.js";
import { cancelRun } from "../../domain/runs/cancel-run.js";
import { resumeRun } from "../../domain/runs/resume-run.js";
import {
  failedHostsOf,
  getRun,
  listRuns,
  type RunHostRow,
  type RunSummary,
} from "../../domain/runs/run-queries.js";
import { startRun } from "../../domain/runs/start-run.js";
import type { TemplateDeps } from "../../domain/runs/template-deps.js";
import { runSnapshot, watchRun } from "../../domain/runs/watch-run.js";
import { getTemplateRow, getVersion } from "../../domain/templates/template-store.js";
import { AppError } from "../../platform/errors/app-error.js";
import { auditContextOf, principalOf } from "./request-context.js";
import { mayRunOn } from "./template-service.js";

function runMessage(run: RunSummary) {
  const c = run.counts;
  return {
    id: run.id,
    templateId: run.templateId,
    versionId: run.versionId,
    version: run.version,
    templateName: run.templateName,
    versionHash: run.versionHash,
    state: run.state,
    stopReason: run.stopReason,
    actor: run.actorName,
    parameters: { ...run.parameters },
    concurrency: run.concurrency,
    maxErrors: run.maxErrors,
    createdAt: timestampFromDate(run.createdAt),
    finishedAt: run.finishedAt ? timestampFromDate(run.finishedAt) : undefined,
    total: Object.entries(c).reduce((sum, [state, n]) => sum + (state === "refused" ? 0 : (n ?? 0)), 0),
    succeeded: c.succeeded ?? 0,
    failed: (c.failed ?? 0) + (c.timed_out ?? 0) + (c.unreachable ?? 0),
    pending: (c.pending ?? 0) + (c.dispatching ?? 0),
    running: c.running ?? 0,
    refused: c.refused ?? 0,
    skipped: (c.skipped ?? 0) + (c.cancelled ?? 0),
    dispatchedAfterBudget: run.dispatchedAfterBudget,
    rerunOf: run.rerunOf ?? "",
    canary: run.canary,
    canaryPause: run.canaryPause,
    wave: run.wave + 1,
    waveCount: Math.max(1, run.waveSizes.length),
  };
}

function hostMessage(host: RunHostRow) {
  const duration =
    host.startedAt && host.finishedAt ? Math.max(0, host.finishedAt.getTime() - host.startedAt.getTime()) : 0;
  return {
    serverId: host.serverId,
    serverName: host.serverName,
    state: host.state === "dispatching" ? "pending" : host.state,
    reason: host.reason,
    exitCode: host.exitCode,
    sandbox: host.sandbox,
    commandId: host.commandId ?? "",
    output: host.output,
    outputBytes: BigInt(host.outputBytes),
    durationMs: Math.min(duration, 0xffffffff),
    order: host.position,
  };
}

/** Where the caller may read servers: runs show only those hosts (and counts of them). */
const readScope = (context: HandlerContext) => scopeOf(principalOf(context), "servers.read");

function responseOf({ run, hosts, groups, waves }: Awaited<ReturnType<typeof getRun>>) {
  return {
    run: runMessage(run),
    waves: waves.map((w) => ({ ...w })),
    hosts: hosts.map(hostMessage),
    groups: groups.map((g) => ({ ...g, serverNames: [...g.serverNames], count: g.serverNames.length })),
  };
}

async function runResponse(deps: TemplateDeps, id: string, context: HandlerContext) {
  return responseOf(await runSnapshot(deps.db, id, readScope(context)));
}

/** RunService: starts, follows and stops batch runs of approved template versions. */
export function createRunService(deps: TemplateDeps | undefined): ServiceImpl<typeof RunService> {
  const need = (): TemplateDeps => {
    if (!deps) throw new AppError("unavailable", "command runs are not running in this server process");
    return deps;
  };
  return {
    async startRun(request, context) {
      const d = need();
      const id = await startRun(
        d.db,
        auditContextOf(context),
        {
          templateId: request.templateId,
          versionId: request.versionId,
          parameters: request.parameters,
          targets: { serverIds: request.targets?.serverIds ?? [], selector: request.targets?.selector ?? "" },
          maxConcurrency: request.maxConcurrency,
          maxErrors: request.maxErrors,
          canary: request.canary,
          canaryPause: request.canaryPause,
          waves: request.waves,
          mayRunOn: mayRunOn(context),
        },
        d.now(),
      );
      d.dispatcher.kick(id);
      return { run: (await runResponse(d, id, context)).run };
    },
    async startAdhocRun(request, context) {
      const d = need();
      const principal = principalOf(context);
      const id = await startAdhocRun(
        d.db,
        auditContextOf(context),
        {
          interpreter: request.interpreter,
          script: request.script,
          runAs: request.runAs,
          timeoutSeconds: request.timeoutSeconds,
          targets: { serverIds: request.targets?.serverIds ?? [], selector: request.targets?.selector ?? "" },
          maxConcurrency: request.maxConcurrency,
          maxErrors: request.maxErrors,
          canary: request.canary,
          canaryPause: request.canaryPause,
          waves: request.waves,
          // Stricter than templates: every target needs commands.adhoc.
          mayRunOn: (tags) => holdsOn(principal, "commands.adhoc", tags),
        },
        d.now(),
      );
      d.dispatcher.kick(id);
      return { run: (await runResponse(d, id, context)).run };
    },
    async checkAdhocCommand(request) {
      if (Buffer.byteLength(request.script) > MAX_ADHOC_SCRIPT_BYTES)
        throw AppError.invalid("script", `must be at most ${MAX_ADHOC_SCRIPT_BYTES} bytes`);
      const rule = (r: (typeof DENY_RULES)[number]) => ({ id: r.id, why: r.why, instead: r.instead });
      return {
        violations: deniedBy(request.script).map((v) => ({ rule: rule(v.rule), excerpt: v.excerpt })),
        rules: DENY_RULES.map(rule),
      };
    },
    async rerunFailed(request, context) {
      const d = need();
      const scope = readScope(context);
      const { run } = await getRun(d.db, request.id, scope);
      const failed = await failedHostsOf(d.db, request.id, scope);
      if (failed.length === 0)
        throw new AppError("failed_precondition", `run ${request.id} has no failed host to re-run`);
      // An ad-hoc command re-runs under the ad-hoc permission (and is audited with its script).
      const adhoc = (await getTemplateRow(d.db, run.templateId)).adhoc;
      const principal = principalOf(context);
      const id = await startRun(
        d.db,
        auditContextOf(context),
        {
          templateId: run.templateId,
          versionId: run.versionId,
          parameters: run.parameters,
          targets: { serverIds: failed, selector: "" },
          maxConcurrency: request.maxConcurrency || String(run.concurrency),
          maxErrors: request.maxErrors || String(run.maxErrors),
          mayRunOn: adhoc ? (tags) => holdsOn(principal, "commands.adhoc", tags) : mayRunOn(context),
          rerunOf: run.id,
          adhocScript: adhoc ? (await getVersion(d.db, run.versionId)).definition.script : undefined,
        },
        d.now(),
      );
      d.dispatcher.kick(id);
      return { run: (await runResponse(d, id, context)).run };
    },
    async cancelRun(request, context) {
      const d = need();
      // Only a run with a host the caller may run commands on is theirs to stop.
      await getRun(d.db, request.id, scopeOf(principalOf(context), "commands.run"));
      await cancelRun(
        d.db,
        d.commands,
        auditContextOf(context),
        { runId: request.id, reason: request.reason },
        d.now(),
      );
      d.dispatcher.kick(request.id);
      return { run: (await runResponse(d, request.id, context)).run };
    },
    async resumeRun(request, context) {
      const d = need();
      // Like cancel: only a run with a host the caller may run commands on is theirs to resume.
      await getRun(d.db, request.id, scopeOf(principalOf(context), "commands.run"));
      await resumeRun(d.db, auditContextOf(context), { runId: request.id, note: request.note }, d.now());
      d.dispatcher.kick(request.id);
      return { run: (await runResponse(d, request.id, context)).run };
    },
    async getRun(request, context) {
      return runResponse(need(), request.id, context);
    },
    async listRuns(request, context) {
      return { runs: (await listRuns(need().db, request.limit, readScope(context))).map(runMessage) };
    },
    async *watchRun(request, context) {
      const d = need();
      for await (const snapshot of watchRun(d.db, request.id, readScope(context), context.signal)) {
        yield responseOf(snapshot);
      }
    },
  };
}

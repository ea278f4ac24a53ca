import type { Db } from "../../platform/db/database.js";
import { commandRunHosts, commandRuns } from "../../platform/db/schema/templates.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import type { Tags } from "../auth/selector.js";
import { planHosts, type Targets } from "../templates/resolve-targets.js";
import { resolveParameters } from "../templates/template-definition.js";
import { getTemplateRow, pickVersion } from "../templates/template-store.js";
import { parseRateLimits } from "./rate-limits.js";
import { parseWaves, wavesInOrder } from "./waves.js";

export interface StartRunInput {
  readonly templateId: string;
  readonly versionId: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly targets: Targets;
  readonly maxConcurrency: string;
  readonly maxErrors: string;
  /** "" (none), "N" or "N%": the first hosts, which must all succeed before any other starts. */
  readonly canary?: string;
  /** After a successful canary, wait for someone to resume the run. */
  readonly canaryPause?: boolean;
  /** Batch sizes, e.g. "1, 10%, 50%, rest" ("" = the rest in one wave); see parseWaves. */
  readonly waves?: string;
  readonly mayRunOn: (tags: Tags) => boolean;
  readonly rerunOf?: string;
  /** Set for an ad-hoc command (its whole script): audited `run.adhoc` with the script. */
  readonly adhocScript?: string;
}

/** Rows inserted per statement (well under PostgreSQL's 65,535 bind parameters). */
const HOSTS_PER_INSERT = 2_000;

/**
 * Starts a run of an approved version: checks the parameters, plans every target (refused ones
 * are stored with their reason), resolves the rate limits and the canary and waves (each host is
 * given its wave in dispatch order) against the runnable hosts, and stores
 * the run with all its hosts and its `run.start` audit entry (with the version's hash) in one
 * transaction. Dispatching is the dispatcher's job (it is told the run's id).
 */
export async function startRun(
  db: Db,
  context: AuditContext,
  input: StartRunInput,
  now: Date,
): Promise<string> {
  const version = await pickVersion(db, input.templateId, input.versionId, true);
  const template = await getTemplateRow(db, input.templateId, "template_id");
  if (template.adhoc && input.adhocScript === undefined) {
    // Its version was approved by the ad-hoc policy, not by a second person: only commands.adhoc runs it.
    throw new AppError(
      "failed_precondition",
      `template ${input.templateId} holds an ad-hoc command: run it with StartAdhocRun (commands.adhoc)`,
    );
  }
  const parameters = resolveParameters(version.definition, input.parameters);
  const planned = await planHosts(db, {
    definition: version.definition,
    parameters,
    targets: input.targets,
    mayRunOn: input.mayRunOn,
  });
  const runnable = planned.filter((p) => p.render !== undefined);
  const limits = parseRateLimits(input, runnable.length);
  const plan = parseWaves(
    { canary: input.canary ?? "", canaryPause: input.canaryPause ?? false, waves: input.waves ?? "" },
    runnable.length,
  );
  const nextWave = wavesInOrder(plan.sizes);
  return db.transaction(async (tx) => {
    const [run] = await tx
      .insert(commandRuns)
      .values({
        templateId: input.templateId,
        versionId: version.id,
        parameters,
        concurrency: limits.concurrency,
        maxErrors: limits.maxErrors,
        canary: plan.canary,
        canaryPause: plan.canaryPause,
        waveSizes: [...plan.sizes],
        actorKind: context.actor.type,
        actorId: context.actor.id || null,
        actorName: context.actor.name,
        rerunOf: input.rerunOf ?? null,
        createdAt: now,
      })
      .returning({ id: commandRuns.id });
    const runId = (run as { id: string }).id;
    let position = 0;
    const rows = planned.map((p) => ({
      runId,
      serverId: p.host.id,
      serverName: p.host.name,
      position: p.render ? ++position : 0,
      wave: p.render ? nextWave() : 0,
      state: p.render ? ("pending" as const) : ("refused" as const),
      reason: p.refused ?? "",
      argv: p.render ? [...p.render.argv] : [],
      env: p.render ? { ...p.render.env } : {},
    }));
    for (let i = 0; i < rows.length; i += HOSTS_PER_INSERT) {
      await tx.insert(commandRunHosts).values(rows.slice(i, i + HOSTS_PER_INSERT));
    }
    await recordAudit(
      tx,
      context,
      {
        action: input.adhocScript === undefined ? "run.start" : "run.adhoc",
        targetType: "run",
        targetId: runId,
        after: {
          templateId: input.templateId,
          versionId: version.id,
          version: version.version,
          sha256: version.hash,
          parameters,
          hosts: runnable.length,
          refused: planned.length - runnable.length,
          concurrency: limits.concurrency,
          maxErrors: limits.maxErrors,
          canary: plan.canary,
          canaryPause: plan.canaryPause,
          waves: plan.sizes.length,
          rerunOf: input.rerunOf,
          ...(input.adhocScript === undefined ? {} : { script: input.adhocScript }),
        },
      },
      now,
    );
    return runId;
  });
}

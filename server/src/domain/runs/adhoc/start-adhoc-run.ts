import { and, eq } from "drizzle-orm";
import type { Db } from "../../../platform/db/database.js";
import { commandTemplates, commandTemplateVersions } from "../../../platform/db/schema/templates.js";
import { AppError } from "../../../platform/errors/app-error.js";
import type { AuditContext } from "../../audit/audit-context.js";
import { definitionHash, parseDefinition } from "../../templates/template-definition.js";
import { type StartRunInput, startRun } from "../start-run.js";
import { deniedBy } from "./deny-list.js";

export interface AdhocCommand {
  readonly interpreter: string;
  readonly script: string;
  /** "" = nobody. */
  readonly runAs: string;
  /** 0 = 300 seconds. */
  readonly timeoutSeconds: number;
}

/** Ad-hoc scripts are one-offs: smaller than a template's. */
export const MAX_ADHOC_SCRIPT_BYTES = 16 * 1024;

/** The definition an ad-hoc command runs as: no parameters, no placeholders, any host in scope. */
export function adhocDefinition(command: AdhocCommand, actorName: string) {
  if (Buffer.byteLength(command.script) > MAX_ADHOC_SCRIPT_BYTES)
    throw AppError.invalid(
      "script",
      `must be at most ${MAX_ADHOC_SCRIPT_BYTES} bytes (write a template for more)`,
    );
  const firstLine = command.script.trim().split("\n")[0] ?? "";
  const title = firstLine.replace(/[{}]/g, "").slice(0, 80) || "(empty)";
  return parseDefinition({
    name: `ad-hoc: ${title}`,
    type: "diagnostic",
    scope: "",
    description: `an ad-hoc command by ${actorName} (not a reviewed template; the deny list applied)`,
    examples: [],
    interpreter: command.interpreter || "bash",
    script: command.script,
    argv: [],
    env: {},
    runAs: command.runAs.trim() || "nobody",
    timeoutSeconds: command.timeoutSeconds || 300,
    memoryMaxMb: 0,
    cpuQuotaPercent: 0,
    tasksMax: 0,
    writePaths: [],
    parameters: [],
  });
}

/** Refuses a script the deny list matches, naming the rule, the line, why and what to do instead. */
export function refuseDenied(script: string): void {
  const [first, ...more] = deniedBy(script);
  if (!first) return;
  const also = more.length ? ` (and ${more.length} more rule${more.length === 1 ? "" : "s"})` : "";
  throw AppError.invalid(
    "script",
    `refused by the deny list, rule ${first.rule.id}: "${first.excerpt}" ${first.rule.why}; instead: ${first.rule.instead}${also}`,
  );
}

/**
 * Starts an ad-hoc command (decision 0231): checked against the deny list, then stored as a
 * hidden template (`adhoc`, keyed by the script's hash) whose one version is approved by policy
 * rather than by a second person, and run like any template version: the same sandbox, rate
 * control, canary and waves, durable dispatch. Audited `run.adhoc` with the whole script.
 * `mayRunOn` must say whether the caller holds `commands.adhoc` on a host.
 */
export async function startAdhocRun(
  db: Db,
  context: AuditContext,
  input: AdhocCommand & Omit<StartRunInput, "templateId" | "versionId" | "parameters" | "adhocScript">,
  now: Date,
): Promise<string> {
  refuseDenied(input.script);
  const definition = adhocDefinition(input, context.actor.name);
  const hash = definitionHash(definition);
  const key = `adhoc.${hash.slice(0, 32)}`;
  const { templateId, versionId } = await db.transaction(async (tx) => {
    await tx
      .insert(commandTemplates)
      .values({ key, adhoc: true, createdAt: now })
      .onConflictDoNothing({ target: commandTemplates.key });
    const [template] = await tx
      .select({ id: commandTemplates.id, adhoc: commandTemplates.adhoc })
      .from(commandTemplates)
      .where(eq(commandTemplates.key, key));
    if (!template?.adhoc) throw new AppError("internal", `template key ${key} is taken by a template`);
    await tx
      .insert(commandTemplateVersions)
      .values({
        templateId: template.id,
        version: 1,
        hash,
        definition,
        authorKind: context.actor.type,
        authorId: context.actor.id || null,
        authorName: context.actor.name,
        createdAt: now,
        reviewState: "approved",
        reviewerName: "ad-hoc policy (commands.adhoc, deny list)",
        reviewedAt: now,
        reviewNote: "ad-hoc command: no template review; the deny list found nothing",
      })
      .onConflictDoNothing();
    const [version] = await tx
      .select({ id: commandTemplateVersions.id })
      .from(commandTemplateVersions)
      .where(
        and(eq(commandTemplateVersions.templateId, template.id), eq(commandTemplateVersions.version, 1)),
      );
    return { templateId: template.id, versionId: (version as { id: string }).id };
  });
  return startRun(
    db,
    context,
    { ...input, templateId, versionId, parameters: {}, adhocScript: input.script },
    now,
  );
}

import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../../platform/db/database.js";
import { alertRules, alerts } from "../../platform/db/schema/alerts.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { parseSelector } from "../auth/selector.js";
import { comparisons } from "./alert-types.js";
import { isMetricName, metricNames } from "./metric-catalogue.js";
import { parseInput } from "./parse-input.js";
import { type AlertRuleRow, userRuleKey } from "./user-rule-signals.js";

const DAY_SECONDS = 86_400;

const ruleSchema = z
  .object({
    name: z.string().trim().min(1, "is required").max(100, "is longer than 100 characters"),
    metric: z.string().refine(isMetricName, { message: `must be one of: ${metricNames.join(", ")}` }),
    selector: z.string().trim().max(1000, "is longer than 1000 characters"),
    comparison: z.enum(comparisons, { message: `must be one of ${comparisons.join(" ")}` }),
    threshold: z.number({ message: "must be a finite number" }),
    recoveryThreshold: z.number({ message: "must be a finite number" }).optional(),
    forSeconds: z
      .number()
      .int("must be whole seconds")
      .min(0, "must not be negative")
      .max(DAY_SECONDS, "must be at most 86400 (a day)"),
    keepFiringForSeconds: z
      .number()
      .int("must be whole seconds")
      .min(0, "must not be negative")
      .max(DAY_SECONDS, "must be at most 86400 (a day)"),
    severity: z.enum(["warning", "critical"], { message: 'must be "warning" or "critical"' }),
    description: z.string().max(2000, "is longer than 2000 characters"),
  })
  .superRefine((rule, ctx) => {
    if (rule.recoveryThreshold === undefined) return;
    const upward = rule.comparison === ">" || rule.comparison === ">=";
    if (upward ? rule.recoveryThreshold > rule.threshold : rule.recoveryThreshold < rule.threshold) {
      ctx.addIssue({
        code: "custom",
        path: ["recoveryThreshold"],
        message: `must be ${upward ? "at most" : "at least"} the threshold (${rule.threshold}): the alert resolves once the value is back past it`,
      });
    }
  });

export type CreateRuleInput = z.input<typeof ruleSchema>;

/** Validates and stores a user rule (audited); the evaluator picks it up on its next cycle. */
export async function createRule(
  db: Db,
  context: AuditContext,
  input: CreateRuleInput,
  now: Date,
): Promise<AlertRuleRow> {
  const rule = parseInput(ruleSchema, input);
  parseSelector(rule.selector, "selector");
  return db.transaction(async (tx) => {
    const [existing] = await tx
      .select({ id: alertRules.id })
      .from(alertRules)
      .where(eq(alertRules.name, rule.name));
    if (existing) throw new AppError("already_exists", `a rule named "${rule.name}" exists`);
    const [row] = await tx
      .insert(alertRules)
      .values({
        ...rule,
        recoveryThreshold: rule.recoveryThreshold ?? null,
        createdBy: context.actor.name,
        createdAt: now,
      })
      .returning();
    if (!row) throw new Error("insert returned no row");
    await recordAudit(
      tx,
      context,
      { action: "alert.rule.create", targetType: "alert_rule", targetId: row.id, after: rule },
      now,
    );
    return row;
  });
}

export function listRules(db: Queryable): Promise<AlertRuleRow[]> {
  return db.select().from(alertRules).orderBy(asc(alertRules.name));
}

/** Deletes a rule and its alerts (nobody is told: the rule is gone, not the problem solved). */
export async function deleteRule(db: Db, context: AuditContext, id: string, now: Date): Promise<void> {
  AppError.requireId(id);
  await db.transaction(async (tx) => {
    const [deleted] = await tx.delete(alertRules).where(eq(alertRules.id, id)).returning();
    if (!deleted) throw AppError.notFound("the rule");
    await tx.delete(alerts).where(eq(alerts.ruleKey, userRuleKey(id)));
    await recordAudit(
      tx,
      context,
      { action: "alert.rule.delete", targetType: "alert_rule", targetId: id, before: deleted },
      now,
    );
  });
}

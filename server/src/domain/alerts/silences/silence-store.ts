import { and, asc, eq, gt } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../../../platform/db/database.js";
import { isUuid } from "../../../platform/db/is-uuid.js";
import { alertSilences, type SilenceKind } from "../../../platform/db/schema/alert-notify.js";
import { alertRules } from "../../../platform/db/schema/alerts.js";
import { servers } from "../../../platform/db/schema/servers.js";
import { AppError } from "../../../platform/errors/app-error.js";
import type { AuditContext } from "../../audit/audit-context.js";
import { recordAudit } from "../../audit/record-audit.js";
import { parseSelector } from "../../auth/selector.js";
import { AGENT_OFFLINE_RULE, DISK_USED_RULE } from "../builtin-signals.js";
import { parseInput } from "../parse-input.js";
import type { SilenceRow } from "./silence-match.js";

const YEAR_MS = 366 * 86_400_000;

const silenceSchema = z.object({
  kind: z.enum(["silence", "maintenance"], { message: 'must be "silence" or "maintenance"' }),
  ruleKey: z.string().trim().max(200, "is longer than 200 characters"),
  serverId: z.string().trim(),
  selector: z.string().trim().max(1000, "is longer than 1000 characters"),
  comment: z
    .string()
    .trim()
    .min(1, "is required: say why (e.g. a ticket or what is being done)")
    .max(1000, "is longer than 1000 characters"),
});

export interface CreateSilenceInput {
  readonly kind: string;
  /** builtin:agent_offline, builtin:disk_used or rule:<id>; empty: any rule. */
  readonly ruleKey: string;
  /** One server; empty: any server (the selector decides). */
  readonly serverId: string;
  /** A tag selector over the servers, e.g. "env=prod"; empty: any tags. */
  readonly selector: string;
  /** When it starts; undefined: now. */
  readonly startsAt: Date | undefined;
  readonly endsAt: Date | undefined;
  readonly comment: string;
}

/**
 * Adds a silence (or maintenance window) after checking it: at least one matcher, an existing
 * rule and server when named, a valid selector, a window that ends after it starts, in the
 * future and within a year. A maintenance window is about servers: it names a server or a
 * selector and no rule. Audited.
 */
export async function createSilence(
  db: Db,
  context: AuditContext,
  input: CreateSilenceInput,
  now: Date,
): Promise<SilenceRow> {
  const checked = parseInput(silenceSchema, input);
  if (checked.selector) parseSelector(checked.selector, "selector");
  if (checked.serverId && !isUuid(checked.serverId)) throw AppError.invalid("server_id", "is not a valid id");
  if (checked.ruleKey && !/^(builtin:[a-z_]+|rule:[0-9a-f-]{36})$/.test(checked.ruleKey)) {
    throw AppError.invalid(
      "rule_key",
      `must be ${AGENT_OFFLINE_RULE}, ${DISK_USED_RULE} or rule:<rule id> (see ListRules)`,
    );
  }
  if (checked.kind === "maintenance") {
    if (checked.ruleKey)
      throw AppError.invalid("rule_key", "must be empty: a maintenance window covers whole servers");
    if (!checked.serverId && !checked.selector)
      throw AppError.invalid(
        "selector",
        "is required for a maintenance window without a server_id (e.g. env=prod)",
      );
  } else if (!checked.ruleKey && !checked.serverId && !checked.selector) {
    throw AppError.invalid(
      "selector",
      "give at least one of rule_key, server_id or selector: a silence of everything is refused",
    );
  }
  const startsAt = input.startsAt ?? now;
  const endsAt = input.endsAt;
  if (!endsAt || Number.isNaN(endsAt.getTime())) throw AppError.invalid("ends_at", "is required");
  if (Number.isNaN(startsAt.getTime())) throw AppError.invalid("starts_at", "is not a time");
  if (endsAt.getTime() <= startsAt.getTime()) throw AppError.invalid("ends_at", "must be after starts_at");
  if (endsAt.getTime() <= now.getTime()) throw AppError.invalid("ends_at", "is in the past");
  if (endsAt.getTime() - startsAt.getTime() > YEAR_MS)
    throw AppError.invalid("ends_at", "is more than a year after starts_at");

  return db.transaction(async (tx) => {
    if (checked.serverId) {
      const [server] = await tx
        .select({ id: servers.id })
        .from(servers)
        .where(eq(servers.id, checked.serverId));
      if (!server) throw AppError.invalid("server_id", "names no server");
    }
    if (checked.ruleKey.startsWith("rule:")) {
      const id = checked.ruleKey.slice("rule:".length);
      const [rule] = isUuid(id)
        ? await tx.select({ id: alertRules.id }).from(alertRules).where(eq(alertRules.id, id))
        : [];
      if (!rule) throw AppError.invalid("rule_key", "names no rule");
    } else if (
      checked.ruleKey &&
      checked.ruleKey !== AGENT_OFFLINE_RULE &&
      checked.ruleKey !== DISK_USED_RULE
    ) {
      throw AppError.invalid("rule_key", `is not a built-in rule (${AGENT_OFFLINE_RULE}, ${DISK_USED_RULE})`);
    }
    const [row] = await tx
      .insert(alertSilences)
      .values({
        kind: checked.kind as SilenceKind,
        ruleKey: checked.ruleKey || null,
        serverId: checked.serverId || null,
        selector: checked.selector,
        startsAt,
        endsAt,
        comment: checked.comment,
        createdBy: context.actor.name,
        createdAt: now,
      })
      .returning();
    if (!row) throw new Error("insert returned no row");
    await recordAudit(
      tx,
      context,
      {
        action: "alert.silence.create",
        targetType: "alert_silence",
        targetId: row.id,
        after: { ...checked, startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString() },
      },
      now,
    );
    return row;
  });
}

/** Silences and maintenance windows not yet over (with `includeEnded`, all), soonest end first. */
export async function listSilences(
  db: Db,
  input: { readonly includeEnded: boolean; readonly now: Date },
): Promise<SilenceRow[]> {
  return db
    .select()
    .from(alertSilences)
    .where(input.includeEnded ? undefined : gt(alertSilences.endsAt, input.now))
    .orderBy(asc(alertSilences.endsAt))
    .limit(1000);
}

/** Ends a silence now (one that has not started yet ends before it starts: it is removed). Audited. */
export async function endSilence(db: Db, context: AuditContext, id: string, now: Date): Promise<SilenceRow> {
  AppError.requireId(id);
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(alertSilences).where(eq(alertSilences.id, id));
    if (!current) throw AppError.notFound("the silence");
    if (current.endsAt.getTime() <= now.getTime()) {
      throw new AppError("failed_precondition", "the silence has already ended");
    }
    // One that has not begun (or begins this very moment) never took effect: it is removed.
    const notStarted = current.startsAt.getTime() >= now.getTime();
    const [row] = notStarted
      ? await tx.delete(alertSilences).where(eq(alertSilences.id, id)).returning()
      : await tx
          .update(alertSilences)
          .set({ endsAt: now, endedBy: context.actor.name })
          .where(and(eq(alertSilences.id, id)))
          .returning();
    await recordAudit(
      tx,
      context,
      {
        action: "alert.silence.end",
        targetType: "alert_silence",
        targetId: id,
        before: { endsAt: current.endsAt.toISOString() },
        after: { endsAt: notStarted ? null : now.toISOString() },
      },
      now,
    );
    return row ?? current;
  });
}

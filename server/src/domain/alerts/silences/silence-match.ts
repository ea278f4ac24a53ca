import { and, gt, lte } from "drizzle-orm";
import { alertSilences } from "../../../platform/db/schema/alert-notify.js";
import type { Queryable } from "../../../platform/db/transaction.js";
import { matchesSelector, parseSelector, type Selector, type Tags } from "../../auth/selector.js";

export type SilenceRow = typeof alertSilences.$inferSelect;

/** A silence in force, its selector parsed once. */
export interface ActiveSilence {
  readonly row: SilenceRow;
  readonly selector: Selector | undefined;
}

/** The silences and maintenance windows in force at `now`. */
export async function activeSilences(db: Queryable, now: Date): Promise<ActiveSilence[]> {
  const rows = await db
    .select()
    .from(alertSilences)
    .where(and(lte(alertSilences.startsAt, now), gt(alertSilences.endsAt, now)));
  return rows.map((row) => ({ row, selector: row.selector ? parseSelector(row.selector) : undefined }));
}

/** Whether every matcher a silence has (rule, server, tag selector) matches the alert. */
export function silenceMatches(
  silence: ActiveSilence,
  alert: { readonly ruleKey: string; readonly serverId: string; readonly tags: Tags },
): boolean {
  const { row } = silence;
  if (row.ruleKey !== null && row.ruleKey !== alert.ruleKey) return false;
  if (row.serverId !== null && row.serverId !== alert.serverId) return false;
  if (silence.selector && !matchesSelector(silence.selector, alert.tags)) return false;
  return true;
}

export function silenced(
  silences: readonly ActiveSilence[],
  alert: { readonly ruleKey: string; readonly serverId: string; readonly tags: Tags },
): boolean {
  return silences.some((silence) => silenceMatches(silence, alert));
}

import { sql } from "drizzle-orm";
import { rowsOf } from "../../platform/db/rows-of.js";
import type { Queryable } from "../../platform/db/transaction.js";
import type { AlertRow } from "./alert-transition.js";

/**
 * An evaluation cycle's changes to `alerts`, written set-based: at most one DELETE, one UPDATE and
 * one INSERT per cycle whatever the number of servers. Rows travel as one JSON parameter each
 * (json_to_recordset unpacks them server-side), so a statement's cost does not grow with a
 * parameter list and stays under PostgreSQL's 65,535-parameter limit.
 */
export interface AlertWrites {
  readonly deletes: readonly string[];
  readonly updates: readonly AlertRow[];
  readonly inserts: readonly AlertRow[];
}

const COLUMNS = `state text, severity text, value float8, threshold float8, summary text, action text,
  rule_name text, labels jsonb, episode int, pending_since timestamptz, firing_since timestamptz,
  notified_at timestamptz, clear_since timestamptz, resolved_at timestamptz, updated_at timestamptz`;

/** A row as json_to_recordset reads it (snake_case, timestamps as ISO strings). */
function record(row: AlertRow): Record<string, unknown> {
  const iso = (date: Date | null) => (date ? date.toISOString() : null);
  return {
    id: row.id || undefined,
    fingerprint: row.fingerprint,
    rule_key: row.ruleKey,
    server_id: row.serverId,
    state: row.state,
    severity: row.severity,
    value: row.value,
    threshold: row.threshold,
    summary: row.summary,
    action: row.action,
    rule_name: row.ruleName,
    labels: row.labels,
    episode: row.episode,
    pending_since: iso(row.pendingSince),
    firing_since: iso(row.firingSince),
    notified_at: iso(row.notifiedAt),
    clear_since: iso(row.clearSince),
    resolved_at: iso(row.resolvedAt),
    updated_at: iso(row.updatedAt),
  };
}

const json = (rows: readonly AlertRow[]) => JSON.stringify(rows.map(record));

/** Applies a cycle's changes; returns the ids of the inserted rows by fingerprint. */
export async function writeAlertChanges(tx: Queryable, writes: AlertWrites): Promise<Map<string, string>> {
  if (writes.deletes.length > 0) {
    await tx.execute(sql`
      delete from alerts
      where id in (select value::uuid from json_array_elements_text(${JSON.stringify(writes.deletes)}::json))`);
  }
  if (writes.updates.length > 0) {
    await tx.execute(sql`
      update alerts a set
        state = v.state, severity = v.severity, value = v.value, threshold = v.threshold,
        summary = v.summary, action = v.action, rule_name = v.rule_name, labels = v.labels,
        episode = v.episode, pending_since = v.pending_since, firing_since = v.firing_since,
        notified_at = v.notified_at, clear_since = v.clear_since, resolved_at = v.resolved_at,
        updated_at = v.updated_at
      from json_to_recordset(${json(writes.updates)}::json) as v(id uuid, ${sql.raw(COLUMNS)})
      where a.id = v.id`);
  }
  const ids = new Map<string, string>();
  if (writes.inserts.length > 0) {
    const result = await tx.execute(sql`
      insert into alerts (fingerprint, rule_key, server_id, state, severity, value, threshold,
        summary, action, rule_name, labels, episode, pending_since, firing_since, notified_at,
        clear_since, resolved_at, updated_at)
      select fingerprint, rule_key, server_id, state, severity, value, threshold, summary, action,
        rule_name, labels, episode, pending_since, firing_since, notified_at, clear_since,
        resolved_at, updated_at
      from json_to_recordset(${json(writes.inserts)}::json)
        as v(fingerprint text, rule_key text, server_id uuid, ${sql.raw(COLUMNS)})
      returning id, fingerprint`);
    for (const row of rowsOf<{ id: string; fingerprint: string }>(result)) ids.set(row.fingerprint, row.id);
  }
  return ids;
}

const SAME_FIELDS = [
  "state",
  "severity",
  "value",
  "threshold",
  "summary",
  "action",
  "ruleName",
  "episode",
] as const satisfies ReadonlyArray<keyof AlertRow>;
const SAME_TIMES = [
  "pendingSince",
  "firingSince",
  "notifiedAt",
  "clearSince",
  "resolvedAt",
] as const satisfies ReadonlyArray<keyof AlertRow>;

/**
 * Whether a transition left a row as it was (apart from `updatedAt`): such a row is not written,
 * so a steady fleet costs no writes and `updated_at` says when the alert last changed.
 */
export function unchanged(before: AlertRow, after: AlertRow): boolean {
  for (const field of SAME_FIELDS) if (before[field] !== after[field]) return false;
  for (const field of SAME_TIMES) if (before[field]?.getTime() !== after[field]?.getTime()) return false;
  const a = before.labels;
  const b = after.labels;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
